import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import { type IGrantable, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, LoggingFormat, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { configJson } from '../../functions/shared/config/load.js';
import type { Env } from '../../functions/shared/env.js';

/** esbuild settings of every function (exported so a test can check what they do to the code). */
export const BUNDLING = {
  format: OutputFormat.ESM,
  target: 'node22',
  minify: true,
  // Error class names are the contract with the definition's Retry/Catch and the HTTP table: keep them.
  keepNames: true,
  sourceMap: true,
  mainFields: ['module', 'main'],
  // The bundled SDK is CommonJS in parts: give the ESM bundle a `require`.
  banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  externalModules: [],
  logLevel: LogLevel.ERROR,
};

export const PROJECT_ROOT = resolve(import.meta.dirname, '..', '..');
/** Where the bundled configuration lands inside every function's package. */
export const BUNDLED_CONFIG_PATH = '/var/task/devops-agent.json';

/** The variables a function may receive: the runtime's own zod env contract, checked by tsc. */
export type FunctionEnvironment = Partial<Record<Exclude<keyof Env, 'AWS_REGION' | 'CONFIG_PATH'>, string>>;

export interface NodeFunctionProps {
  /** `functions/<name>/handler.ts`, relative to the project root */
  entry: string;
  description: string;
  timeout: Duration;
  /** `devops-agent.yaml`; its JSON (`configJson`) goes into the bundle */
  configFile: string;
  environment?: FunctionEnvironment;
  memorySize?: number;
}

/**
 * Every Lambda of the agent, with one set of runtime defaults: Node.js 22 on ARM, ESM bundle with the SDK
 * inside (pinned by the lockfile) and a `require` shim for CJS dependencies, source maps, JSON logs into an
 * explicit log group with retention, X-Ray tracing, and an own role that starts with no permissions.
 */
export class NodeFunction extends Construct implements IGrantable {
  readonly function: NodejsFunction;
  readonly role: Role;
  readonly logGroup: LogGroup;

  get grantPrincipal() {
    return this.role.grantPrincipal;
  }

  constructor(scope: Construct, id: string, props: NodeFunctionProps) {
    super(scope, id);
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `${id}: its own log group, traces, and the grants the stack adds`,
    });
    this.logGroup.grantWrite(this.role);
    const bundledConfig = writeBundledConfig(resolve(PROJECT_ROOT, props.configFile));
    this.function = new NodejsFunction(this, 'Function', {
      entry: resolve(PROJECT_ROOT, props.entry),
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout,
      role: this.role,
      tracing: Tracing.ACTIVE,
      loggingFormat: LoggingFormat.JSON,
      logGroup: this.logGroup,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: resolve(PROJECT_ROOT, 'package-lock.json'),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        POWERTOOLS_SERVICE_NAME: `devops-agent-${id}`,
        CONFIG_PATH: BUNDLED_CONFIG_PATH,
        ...props.environment,
      },
      bundling: {
        ...BUNDLING,
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          afterBundling: (_input: string, output: string) => [
            `cp "${bundledConfig}" "${output}/devops-agent.json"`,
          ],
        },
      },
    });
    Validations.of(this.function).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'The project targets Node.js 22 (the local runtime and CI run 22); cdk-nag flags it only because CDK knows 24.x. Move to 24.x together with the toolchain.',
    });
    Validations.of(this.role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'Every function gets X-Ray tracing (PutTraceSegments, PutTelemetryRecords) on "*": those actions support no resource-level permissions. Any other grant on "*" is acknowledged where the stack adds it, and test/infra/least-privilege.test.ts allows "*" only for a listed set of such actions.',
    });
  }
}

/**
 * The configuration as a function loads it (JSON, so no bundle carries a YAML parser), written once per
 * content into the temp directory for the bundling hook to copy.
 */
const bundledConfigs = new Map<string, string>();
const writeBundledConfig = (configFile: string): string => {
  // every function of a stack bundles the same file: validate and write it once per content
  const text = readFileSync(configFile, 'utf8');
  const known = bundledConfigs.get(text);
  if (known) return known;
  const json = configJson(configFile);
  const file = join(
    tmpdir(),
    `devops-agent-config-${createHash('sha256').update(json).digest('hex').slice(0, 16)}.json`,
  );
  writeFileSync(file, json);
  bundledConfigs.set(text, file);
  return file;
};

/** Seconds → Duration, for the table of Task timeouts. */
export const seconds = (s: number): Duration => Duration.seconds(s);

import { build } from 'esbuild';
import { BUNDLING, PROJECT_ROOT } from '../../infra/constructs/node-function.js';
import { FUNCTION_BUNDLE_OPTIONS } from '../fixtures/function-bundle.js';

/**
 * The packages that reach a function's bundle as the stack builds it: an input esbuild parsed but
 * tree-shook away (0 bytes in the output) does not count.
 */
const packagesOf = async (entry: string) => {
  const result = await build({
    ...FUNCTION_BUNDLE_OPTIONS,
    entryPoints: [`${PROJECT_ROOT}/functions/${entry}/handler.ts`],
    write: false,
    metafile: true,
    outfile: `/tmp/${entry}.mjs`,
  });
  const output = Object.values(result.metafile.outputs)[0];
  const inputs = Object.entries(output?.inputs ?? {})
    .filter(([, input]) => input.bytesInOutput > 0)
    .map(([path]) => path);
  return (name: string) => inputs.some((i) => i.includes(`node_modules/${name}/`));
};

describe('function bundling', () => {
  it('keeps error class names in the minified bundle, since Retry/Catch and the HTTP table match them', async () => {
    // Prepare
    const entry = `import { GatesNotMetError, NotFoundError } from './functions/shared/errors.ts';
module.exports = [new GatesNotMetError('x').name, new NotFoundError('y').name];`;

    // Act
    const result = await build({
      stdin: { contents: entry, resolveDir: PROJECT_ROOT, loader: 'ts' },
      bundle: true,
      write: false,
      platform: 'node',
      format: 'cjs',
      target: BUNDLING.target,
      minify: BUNDLING.minify,
      keepNames: BUNDLING.keepNames,
      logLevel: 'silent',
    });
    const module = { exports: [] as string[] };
    new Function('module', 'exports', 'require', result.outputFiles[0]?.text ?? '')(
      module,
      module.exports,
      () => ({}),
    );

    // Assess
    expect(module.exports).toEqual(['GatesNotMetError', 'NotFoundError']);
  });

  it('bundles the Kubernetes client only into the functions that run, undo or describe steps', async () => {
    // Prepare
    const bundle = async (entry: string) =>
      (
        await build({
          ...FUNCTION_BUNDLE_OPTIONS,
          entryPoints: [`${PROJECT_ROOT}/functions/${entry}/handler.ts`],
          write: false,
        })
      ).outputFiles[0]?.text ?? '';

    // Act
    const [acknowledge, executeStep] = await Promise.all([bundle('acknowledge'), bundle('execute-step')]);

    // Assess: the client's KubeConfig class (kept by keepNames) marks it
    expect(executeStep).toContain('KubeConfig');
    expect(acknowledge).not.toContain('KubeConfig');
    expect(executeStep.length - acknowledge.length).toBeGreaterThan(1_000_000);
  }, 120_000);

  it('bundles the database drivers and the step-only SDK clients only into the functions that need them', async () => {
    // Act
    const [acknowledge, verify, verifyRollback, executeStep] = await Promise.all(
      ['acknowledge', 'verify', 'verify-rollback', 'execute-step'].map(packagesOf),
    );

    // Assess
    for (const driver of ['pg', 'mysql2']) {
      expect(acknowledge?.(driver)).toBe(false);
      for (const checks of [verify, verifyRollback, executeStep]) expect(checks?.(driver)).toBe(true);
    }
    for (const client of ['@aws-sdk/client-cloudfront', '@aws-sdk/client-eks']) {
      expect(acknowledge?.(client)).toBe(false);
      expect(verifyRollback?.(client)).toBe(false);
      expect(executeStep?.(client)).toBe(true);
    }
  }, 120_000);

  it('gives each function only the SDK clients and libraries of the adapters its handler names, and no YAML parser', async () => {
    // Prepare
    const clients = ['client-dynamodb', 'client-s3', 'client-sesv2', 'client-sfn', 'client-cloudwatch'];

    // Act
    const [releaseLock, reportFailure, webhook, monitor, checkGates] = await Promise.all(
      ['release-lock', 'report-failure', 'clickup-webhook', 'monitor', 'check-gates'].map(packagesOf),
    );
    const used = (has: ((name: string) => boolean) | undefined) =>
      clients.filter((client) => has?.(`@aws-sdk/${client}`));

    // Assess
    expect(used(releaseLock)).toEqual(['client-dynamodb']);
    expect(used(reportFailure)).toEqual(['client-dynamodb', 'client-s3', 'client-sesv2']);
    expect(used(webhook)).toEqual(['client-dynamodb', 'client-sfn']);
    expect(used(monitor)).toEqual(['client-dynamodb', 'client-cloudwatch']);
    for (const has of [releaseLock, reportFailure, webhook, monitor]) {
      expect(has?.('@octokit/core')).toBe(false);
      expect(has?.('yaml')).toBe(false);
    }
    expect(checkGates?.('@octokit/core')).toBe(true);
    expect(checkGates?.('yaml')).toBe(false);
  }, 120_000);
});

import { ClickUpTracker } from '../functions/shared/adapters/clickup-tracker.js';
import { GitHubSourceControl } from '../functions/shared/adapters/github-source-control.js';
import type { Config } from '../functions/shared/config/schema.js';
import type { Logger } from '../functions/shared/ports/index.js';
import { type LocalEnv, webhookSecret } from './env.js';
import { type LocalRuntime, startLocalRuntime } from './runtime.js';

export interface ServeOptions {
  config: Config;
  env: LocalEnv;
  /** the whole process environment: checks read their credentials from it by name (`url_env`, `auth.secret`) */
  variables: Readonly<Record<string, string | undefined>>;
  port: number;
  dataDir: string;
  /** the source-control fixture used when there is no GitHub token */
  sourceControlFixture: string;
  logger: Logger;
}

/**
 * The local runtime for real work: ClickUp when `CLICKUP_API_TOKEN` is set (its webhook points at this
 * server's `/webhooks/clickup`, signed with the secret from `clickup setup`), GitHub when `GITHUB_TOKEN` is
 * set; otherwise the embedded tracker and the fixture, as in the demo.
 */
export const serve = async (options: ServeOptions): Promise<LocalRuntime & { mode: string }> => {
  const { env } = options;
  const tracker = env.CLICKUP_API_TOKEN
    ? new ClickUpTracker({
        token: env.CLICKUP_API_TOKEN,
        ...(env.CLICKUP_API_URL ? { baseUrl: env.CLICKUP_API_URL } : {}),
      })
    : undefined;
  const secret = webhookSecret(env);
  if (tracker && secret.length === 0) {
    throw new Error(
      'CLICKUP_API_TOKEN is set but there is no webhook secret: run `devops-agent clickup setup` or set CLICKUP_WEBHOOK_SECRET',
    );
  }
  const runtime = await startLocalRuntime({
    config: options.config,
    dataDir: options.dataDir,
    sourceControlFixture: options.sourceControlFixture,
    ...(env.GITHUB_TOKEN
      ? {
          sourceControl: new GitHubSourceControl({
            token: env.GITHUB_TOKEN,
            ...(env.GITHUB_API_URL ? { baseUrl: env.GITHUB_API_URL } : {}),
          }),
        }
      : {}),
    port: options.port,
    logger: options.logger,
    variables: options.variables,
    ...(tracker ? { tracker } : {}),
    ...(secret.length > 0 ? { webhookSecret: secret } : {}),
    ...(env.DEVOPS_AGENT_APPROVAL_KEYS ? { approvalKeys: env.DEVOPS_AGENT_APPROVAL_KEYS } : {}),
  });
  return { ...runtime, mode: tracker ? 'ClickUp' : 'embedded tracker' };
};

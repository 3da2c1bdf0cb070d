import { readFileSync } from 'node:fs';
import * as z from 'zod';
import { parseWebhookSecrets } from '../functions/shared/webhook-secrets.js';

/** Where a local step reaches an AWS service: `aws` (the SDK's own region and credentials) or an endpoint URL. */
const NOT_AN_ENDPOINT = 'expected aws or the http(s) URL of a compatible endpoint';
export const AwsEndpointSchema = z
  .union([z.literal('aws'), z.url({ protocol: /^https?$/, error: NOT_AN_ENDPOINT })], {
    error: NOT_AN_ENDPOINT,
  })
  .optional();

/** What the local runtime reads from its environment: the only place it touches `process.env`. */
export const LocalEnvSchema = z.object({
  /** a ClickUp API token: with it the local runtime drives real ClickUp tasks instead of the embedded tracker */
  CLICKUP_API_TOKEN: z.string().min(1).optional(),
  CLICKUP_API_URL: z.url().optional(),
  /** the webhook's signing secret; else read from the file `clickup setup` wrote */
  CLICKUP_WEBHOOK_SECRET: z.string().min(1).optional(),
  CLICKUP_WEBHOOK_SECRET_FILE: z.string().min(1).default('.devops-agent/clickup-webhook-secret'),
  /** a GitHub token for the CI and PR gates; else the source-control fixture file is used */
  GITHUB_TOKEN: z.string().min(1).optional(),
  GITHUB_API_URL: z.url().optional(),
  /** the approval link signing keyring (JSON); else `<data dir>/approval-keys.json`, created on first use */
  DEVOPS_AGENT_APPROVAL_KEYS: z.string().min(1).optional(),
  /** s3-sync steps run against it (`aws`, or MinIO, s3rver, …); unset, they cannot run here and the gates say so */
  DEVOPS_AGENT_S3_ENDPOINT: AwsEndpointSchema,
  /** cloudfront-invalidation steps and an s3-sync's invalidate_after_restore run against it (`aws`) */
  DEVOPS_AGENT_CLOUDFRONT_ENDPOINT: AwsEndpointSchema,
  /**
   * the kubeconfig (a `:`-separated list, as kubectl reads it) kubernetes steps and migration Jobs use; unset,
   * they cannot run here and the gates say so
   */
  KUBECONFIG: z.string().min(1).optional(),
});
export type LocalEnv = z.infer<typeof LocalEnvSchema>;

export const readLocalEnv = (source: Record<string, string | undefined> = process.env): LocalEnv => {
  const parsed = LocalEnvSchema.safeParse(source);
  if (!parsed.success) {
    throw new Error(
      `environment: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return parsed.data;
};

/** The webhook secrets from the environment or the file written by `devops-agent clickup setup`. */
export const webhookSecret = (env: LocalEnv): string[] => {
  if (env.CLICKUP_WEBHOOK_SECRET) return parseWebhookSecrets(env.CLICKUP_WEBHOOK_SECRET);
  let stored: string;
  try {
    stored = readFileSync(env.CLICKUP_WEBHOOK_SECRET_FILE, 'utf8');
  } catch {
    return [];
  }
  return parseWebhookSecrets(stored);
};

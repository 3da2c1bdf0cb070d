import * as z from 'zod';
import { BadRequestError } from './errors.js';

/**
 * The signing secrets of the ClickUp webhooks, one per configured list (`devops-agent clickup setup`
 * creates one webhook per list, and ClickUp gives each its own secret). Stored as JSON in the secret file
 * (local) or the Secrets Manager secret (AWS): `{"webhooks": {"<webhook id>": {"list_id": "901", "secret":
 * "…"}}}`. A plain string is accepted too: one secret set by hand.
 */
export const WebhookSecretsSchema = z.object({
  webhooks: z.record(z.string(), z.object({ list_id: z.string(), secret: z.string().min(1) })),
});
export type WebhookSecrets = z.infer<typeof WebhookSecretsSchema>;

/** Every secret a delivery may be signed with; empty when nothing is stored. */
export const parseWebhookSecrets = (stored: string | undefined): string[] => {
  const text = stored?.trim();
  if (!text) return [];
  if (!text.startsWith('{')) return [text];
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new BadRequestError(
      'the stored webhook secrets are not valid JSON; run `devops-agent clickup setup` again to rewrite them',
    );
  }
  const parsed = WebhookSecretsSchema.safeParse(json);
  if (!parsed.success) {
    throw new BadRequestError(
      'the stored webhook secrets are not {"webhooks": {"<id>": {"list_id", "secret"}}}; run `devops-agent clickup setup` again',
    );
  }
  return Object.values(parsed.data.webhooks).map((w) => w.secret);
};

/** The stored form of `secrets` (what `parseWebhookSecrets` reads back). */
export const serializeWebhookSecrets = (secrets: WebhookSecrets): string =>
  `${JSON.stringify(WebhookSecretsSchema.parse(secrets), null, 2)}\n`;

/** The stored secrets as an object, or none when nothing (or a plain hand-set string) is stored. */
export const readWebhookSecrets = (stored: string | undefined): WebhookSecrets => {
  const text = stored?.trim();
  if (!text?.startsWith('{')) return { webhooks: {} };
  parseWebhookSecrets(text);
  return WebhookSecretsSchema.parse(JSON.parse(text));
};

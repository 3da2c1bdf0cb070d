import * as z from 'zod';

/**
 * What a deployed function reads from its environment: the only place that touches `process.env`.
 * Resource variables are optional because each function gets only the resources it may use; a port used
 * without its variable fails with a message naming the variable.
 */
export const EnvSchema = z.object({
  AWS_REGION: z.string().min(1).default('eu-west-1'),
  /** the bundled configuration, as JSON (`configJson`) */
  CONFIG_PATH: z.string().min(1).optional(),
  /** the configuration as JSON text itself (tests, small setups); wins over CONFIG_PATH */
  CONFIG_JSON: z.string().min(1).optional(),
  TABLE_NAME: z.string().min(1).optional(),
  ARTIFACT_BUCKET: z.string().min(1).optional(),
  STATE_MACHINE_ARN: z.string().startsWith('arn:').optional(),
  CLICKUP_TOKEN_SECRET_ARN: z.string().startsWith('arn:').optional(),
  WEBHOOK_SECRET_ARN: z.string().startsWith('arn:').optional(),
  /** the keyring approval links are signed with (JSON {current, keys}; rotatable) */
  APPROVAL_KEYS_SECRET_ARN: z.string().startsWith('arn:').optional(),
  CLICKUP_API_URL: z.url().optional(),
  GITHUB_TOKEN_SECRET_ARN: z.string().startsWith('arn:').optional(),
  /** GitHub Enterprise Server: https://<host>/api/v3 */
  GITHUB_API_URL: z.url().optional(),
  /** the verified SES identity approval mail is sent from */
  MAIL_FROM: z.string().min(3).optional(),
  /** the API's base URL, for approval links: https://<id>.execute-api.<region>.amazonaws.com/<stage> */
  PUBLIC_URL: z.url().optional(),
});
export type Env = z.infer<typeof EnvSchema>;

export const parseEnv = (source: Record<string, string | undefined> = process.env): Env => {
  const result = EnvSchema.safeParse(source);
  if (!result.success) {
    throw new Error(
      `invalid function environment: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  return result.data;
};

/**
 * Reads one variable by a name the configuration gives (a `sql` check's `url_env`): outside the schema
 * because the names are the user's. The value is a credential: never log it.
 */
export const readVariable = (
  name: string,
  source: Record<string, string | undefined> = process.env,
): string | undefined => source[name] || undefined;

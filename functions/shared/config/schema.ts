import * as z from 'zod';
import { freezeWindowProblem } from '../freeze.js';

const UNIT_SECONDS = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 } as const;
type Unit = keyof typeof UNIT_SECONDS;

/**
 * A duration written as a number in the seed's unit for that field (minutes for `monitoring_period`,
 * seconds for `verification_timeout`) or as a string with a unit ("90s", "2m", "1h"). Always read as seconds.
 */
export const duration = (defaultUnit: Unit) =>
  z
    .union([
      z.number().positive(),
      z.string().regex(/^\d+(\.\d+)?\s*(ms|s|m|h|d)$/, {
        error: 'expected a duration such as 30s, 5m, 1h (or a plain number)',
      }),
    ])
    .transform((value) => {
      if (typeof value === 'number') return value * UNIT_SECONDS[defaultUnit];
      const match = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/.exec(value);
      const [, amount, unit] = match ?? [];
      return Number(amount) * UNIT_SECONDS[unit as Unit];
    });

const name = z.string().min(1).max(80);
const argv = z
  .array(z.string())
  .min(1, { error: 'expected a command as a list of arguments, e.g. [node, deploy.js]' });
const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'an environment variable name is letters, digits and _' });

/**
 * How often a failing check is tried again and how long apart; `verification_timeout` bounds the whole
 * verification whatever these say (runChecks in shared/checks.ts is the one place that waits).
 */
const checkRetries = (retries: number, intervalSeconds: number) => ({
  retries: z.number().int().min(0).max(100).default(retries),
  retry_interval: duration('s').default(intervalSeconds),
});

/** Environment variables of a step (name → value; values may use `{{vars}}`). */
const envVars = z
  .record(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
      error: 'an environment variable name is letters, digits and _',
    }),
    z.string(),
  )
  .default({});

/** `command`: runs a program without a shell; `{{previous}}` in `undo` is replaced by what `record` printed. */
export const CommandStepSchema = z.strictObject({
  name,
  kind: z.literal('command'),
  run: argv,
  record: argv.optional(),
  undo: argv.optional(),
  /** a folder under the agent's base directory; an absolute path or `..` could run the command anywhere */
  cwd: z
    .string()
    .min(1)
    .refine(
      (cwd) => !/^([\\/]|[A-Za-z]:)/.test(cwd) && !cwd.split(/[\\/]/).includes('..') && !cwd.includes('\0'),
      {
        error:
          "cwd is a folder under the agent's base directory, such as app or services/api; it cannot be absolute or use ..",
      },
    )
    .optional(),
  /** environment variables for the command (over the agent's own); values may use `{{vars}}` */
  env: envVars,
  timeout: duration('s').default(300),
});

export const KubernetesStepSchema = z.strictObject({
  name,
  kind: z.literal('kubernetes'),
  cluster: z.string().optional(),
  namespace: z.string().default('default'),
  deployment: z.string(),
  container: z.string().optional(),
  image: z.string().optional(),
  manifest: z.string().optional(),
  timeout: duration('s').default(600),
});

export const MigrationStepSchema = z.strictObject({
  name,
  kind: z.literal('migration'),
  run: argv,
  down: argv.optional(),
  /** with an image the migration runs as a Kubernetes Job (`run` is its command); without, as a local command */
  image: z.string().optional(),
  path: z.string().default('migrations'),
  /** the Job's cluster (EKS cluster name on AWS, kubeconfig context locally) and namespace */
  cluster: z.string().optional(),
  namespace: z.string().default('default'),
  /** environment variables of the migration (Job container or command); values may use `{{vars}}` */
  env: envVars,
  /** Kubernetes Secrets whose keys become the Job's environment (the database URL stays out of the YAML) */
  env_from_secrets: z.array(z.string().min(1)).default([]),
  timeout: duration('s').default(600),
});

const invalidationPaths = z
  .array(z.string().regex(/^\//, { error: 'a CloudFront path starts with /, e.g. /index.html or /*' }))
  .min(1)
  .default(['/*']);

/** A Cache-Control rule of an `s3-sync` step; the first rule whose glob matches a file decides. */
export const CacheRuleSchema = z.strictObject({ match: z.string().min(1), value: z.string().min(1) });

/** `s3-sync`: a build to the site bucket, the previous version backed up first (see docs/configuration.md). */
export const S3SyncStepSchema = z
  .strictObject({
    name,
    kind: z.literal('s3-sync'),
    /** `s3://bucket/prefix/` (an artifact) or a folder (`file://dist`, `dist`) under the agent's base directory; may use `{{vars}}` */
    source: z.string().min(1),
    bucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { error: 'expected an S3 bucket name' }),
    prefix: z
      .string()
      .regex(/^(?!\/)/, { error: 'a key prefix does not start with /' })
      .default(''),
    /** checked before the defaults (entry points no-cache, fingerprinted files immutable, the rest 5 minutes) */
    cache_control: z.array(CacheRuleSchema).default([]),
    /** where the previous version is copied first, from the bucket's root; never synced or deleted */
    backup_prefix: z
      .string()
      .regex(/^[^/].*\/$/, { error: 'expected a key prefix ending in /, e.g. .devops-agent-backups/' })
      .default('.devops-agent-backups/'),
    /** delete the files the build no longer has (only after every upload succeeded) */
    delete: z.boolean().default(true),
    /** a file of the site (under prefix) whose text says what is live, shown as "now" in the plan */
    version_file: z.string().min(1).optional(),
    /** after a rollback restored the previous files, invalidate them (see docs/configuration.md) */
    invalidate_after_restore: z
      .strictObject({
        distribution_id: z.string().min(1),
        paths: invalidationPaths,
        // with the restore's own bound, within the Rollback Lambda's 15 minutes
        timeout: duration('s').default(300),
      })
      .optional(),
    timeout: duration('s').default(600),
  })
  .superRefine((step, ctx) => {
    const prefix = step.prefix && !step.prefix.endsWith('/') ? `${step.prefix}/` : step.prefix;
    if (prefix.startsWith(step.backup_prefix)) {
      ctx.addIssue({
        code: 'custom',
        path: ['prefix'],
        message: `the site's prefix is inside backup_prefix (${step.backup_prefix}); choose another backup_prefix`,
      });
    }
    const source = /^s3:\/\/([^/]*)/.exec(step.source);
    if (source && (!source[1] || source[1].includes('{{'))) {
      ctx.addIssue({
        code: 'custom',
        path: ['source'],
        message:
          'expected s3://<bucket>/<prefix>/ with the bucket written out (the stack grants read access to it); {{vars}} may follow in the prefix',
      });
    }
  });

export const CloudFrontInvalidationStepSchema = z.strictObject({
  name,
  kind: z.literal('cloudfront-invalidation'),
  distribution_id: z.string(),
  paths: invalidationPaths,
  timeout: duration('s').default(900),
});

export const STEP_KINDS = [
  'command',
  'kubernetes',
  'migration',
  's3-sync',
  'cloudfront-invalidation',
] as const;

export const StepSchema = z.discriminatedUnion(
  'kind',
  [
    CommandStepSchema,
    KubernetesStepSchema,
    MigrationStepSchema,
    S3SyncStepSchema,
    CloudFrontInvalidationStepSchema,
  ],
  { error: () => `unknown step kind; expected one of ${STEP_KINDS.join(', ')}` },
);
export type Step = z.infer<typeof StepSchema>;
export type CommandStep = z.infer<typeof CommandStepSchema>;

export const HttpCheckSchema = z.strictObject({
  name,
  kind: z.literal('http'),
  url: z.url({ error: 'expected an absolute http(s) URL' }),
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT']).default('GET'),
  headers: z.record(z.string(), z.string()).default({}),
  body: z.string().optional(),
  expect_status: z.number().int().min(100).max(599).default(200),
  expect_body: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
  max_latency: duration('ms').optional(),
  /** a credential for the request, read at run time; the value never appears in the YAML or a result */
  auth: z
    .strictObject({
      /** locally the environment variable holding the value; on AWS the Secrets Manager secret id */
      secret: z.string().min(1),
      /** `Basic` expects the secret to hold user:password */
      scheme: z
        .union([
          z.enum(['Bearer', 'Basic']),
          z.string().regex(/^header:[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, {
            error: 'expected Bearer, Basic or header:<Header-Name>',
          }),
        ])
        .default('Bearer'),
    })
    .optional(),
  ...checkRetries(5, 1),
});

const SQL_OPS = ['=', '!=', '<', '<=', '>', '>='] as const;
export type SqlOp = (typeof SQL_OPS)[number];
const comparison = <T extends z.ZodType<string | number>>(value: T) =>
  z.strictObject({ op: z.enum(SQL_OPS, { error: `expected op to be one of ${SQL_OPS.join(' ')}` }), value });

export const SqlCheckSchema = z
  .strictObject({
    name,
    kind: z.literal('sql'),
    /**
     * the environment variable holding the connection URL (postgres://, postgresql://, mysql://, mariadb://);
     * used when it is set, so locally; a Lambda has no such variable
     */
    url_env: envName.optional(),
    /** the Secrets Manager secret (name or ARN) holding the connection URL; read when url_env is unset (AWS) */
    url_secret: z.string().min(1).optional(),
    query: z.string().min(1),
    /** the first column of the first row equals this value, or compares to it ({ op: '>=', value: 3 }) */
    expect: z
      .union([z.string(), z.number(), z.boolean(), comparison(z.union([z.string(), z.number()]))])
      .optional(),
    /** the number of rows returned, or a comparison with it */
    expect_rows: z.union([z.number().int().min(0), comparison(z.number())]).optional(),
    /** the first value is at least what the same query returned before the deploy (a count not dropped) */
    expect_not_less_than_before: z.boolean().default(false),
    /** how long the statement may run; the verification_timeout bounds it too */
    timeout: duration('s')
      .default(10)
      .refine((s) => s <= 300, { error: 'a check query may run at most 5m' }),
    ...checkRetries(2, 1),
  })
  // both may be given: one file serves the local runtime (url_env) and the stack on AWS (url_secret)
  .refine((c) => c.url_env !== undefined || c.url_secret !== undefined, {
    error:
      'no connection URL: add url_env (the environment variable holding it, for the local runtime) and/or url_secret (the Secrets Manager secret holding it, needed on AWS)',
    path: ['url_env'],
  });
export type SqlCheck = z.infer<typeof SqlCheckSchema>;

export const RolloutCheckSchema = z.strictObject({
  name,
  kind: z.literal('rollout'),
  /** the kubeconfig context (locally) or EKS cluster (on AWS), as for kubernetes steps */
  cluster: z.string().optional(),
  namespace: z.string().default('default'),
  /** the container whose image is checked; default the first */
  container: z.string().optional(),
  deployment: z.string(),
  image: z.string(),
});

export const CHECK_KINDS = ['http', 'sql', 'rollout'] as const;
export const CheckSchema = z.discriminatedUnion(
  'kind',
  [HttpCheckSchema, SqlCheckSchema, RolloutCheckSchema],
  {
    error: () => `unknown check kind; expected one of ${CHECK_KINDS.join(', ')}`,
  },
);
export type Check = z.infer<typeof CheckSchema>;
export type HttpCheck = z.infer<typeof HttpCheckSchema>;

/** CloudWatch's TreatMissingData values, as the alarms take them. */
export const MISSING_DATA = ['breaching', 'notBreaching', 'ignore', 'missing'] as const;
export type MissingData = (typeof MISSING_DATA)[number];

/** What the bake does with an alarm that is already in ALARM when it starts. */
export const ALARMS_FIRING_AT_START = ['ignore', 'breach'] as const;
export type AlarmsFiringAtStart = (typeof ALARMS_FIRING_AT_START)[number];

/** What the bake does with an alarm it cannot read (CloudWatch's words, as for missing data). */
export const UNREADABLE_ALARMS = ['breaching', 'notBreaching'] as const;
export type UnreadableAlarms = (typeof UNREADABLE_ALARMS)[number];

export const TriggersSchema = z.strictObject({
  /** percent of requests failing */
  error_rate: z.number().min(0).max(100).default(1.0),
  error_rate_for: duration('s').default(300),
  /** M of the N datapoints in `error_rate_for` (one per check interval or CloudWatch minute) that must breach; unset: all N */
  error_rate_datapoints: z.number().int().positive().optional(),
  /** milliseconds */
  response_time_p99: z.number().positive().default(1000),
  response_time_p99_for: duration('s').default(300),
  /** M of the N datapoints in `response_time_p99_for` that must breach; unset: all N */
  response_time_p99_datapoints: z.number().int().positive().optional(),
  health_check_failures: z.number().int().positive().default(3),
  /** how a CloudWatch alarm treats a minute without data; unset: notBreaching (no traffic is no error) */
  error_rate_missing_data: z.enum(MISSING_DATA).optional(),
  /** unset: notBreaching */
  response_time_p99_missing_data: z.enum(MISSING_DATA).optional(),
  /** unset: breaching (a health check that stops answering is failing) */
  health_check_missing_data: z.enum(MISSING_DATA).optional(),
});
export type Triggers = z.infer<typeof TriggersSchema>;

/** A sign-off: a custom field reading Approved (a bare string is a field name), a tag, or a checklist item. */
export const SignOffSchema = z.union([
  z.string().min(1),
  z.strictObject({ field: z.string().min(1), values: z.array(z.string().min(1)).optional() }),
  z.strictObject({ tag: z.string().min(1) }),
  z.strictObject({ checklist: z.string().min(1), item: z.string().min(1).optional() }),
]);
export type SignOff = z.infer<typeof SignOffSchema>;

export const FreezeWindowSchema = z
  .strictObject({
    name: z.string().min(1),
    /** when each freeze starts: five cron fields, e.g. "0 15 * * FRI" */
    cron: z.string().min(1),
    /** how long each freeze lasts from its start, e.g. 65h */
    duration: duration('h'),
    timezone: z.string().default('UTC'),
  })
  .superRefine((w, ctx) => {
    const problem = freezeWindowProblem(w.cron, w.timezone);
    if (problem) ctx.addIssue({ code: 'custom', path: ['cron'], message: problem });
  });

export const MigrationGateSchema = z.strictObject({
  /** folder (in the repository) the release's migrations are added under */
  path: z.string().min(1),
  dialect: z.enum(['postgresql', 'mysql']),
  /** let destructive migrations through; the plan then says "no automatic database rollback" */
  allow_destructive: z.boolean().default(false),
});

export const GatesSchema = z.strictObject({
  ci: z.boolean().default(true),
  pr_merged: z.boolean().default(true),
  /** the pull request's base branch must have branch protection */
  protected_branch: z.boolean().default(true),
  /** the seed's security and QA sign-off: custom fields reading Approved, tags or checklist items */
  sign_off: z.array(SignOffSchema).default(['Security Review', 'QA']),
  alarms_clear: z.boolean().default(true),
  /** a task custom field whose text (the reason) lets a hot fix deploy while alarms fire; audited */
  alarms_override_field: z.string().min(1).default('Hotfix Reason'),
  freeze_windows: z.array(FreezeWindowSchema).default([]),
  /** a task custom field whose text (the reason) lets a deployment through a freeze window; audited */
  freeze_override_field: z.string().min(1).default('Freeze Override Reason'),
  migrations: MigrationGateSchema.optional(),
});

export const ApproverSchema = z
  .strictObject({
    email: z.email().optional(),
    clickup_user_id: z.string().optional(),
    name: z.string().optional(),
  })
  .refine((a) => a.email !== undefined || a.clickup_user_id !== undefined, {
    error: 'an approver needs an email or a clickup_user_id',
  });

/**
 * The service's request metrics in CloudWatch: `alb` (the load balancer's full name, `app/<name>/<id>`) for
 * AWS/ApplicationELB, or a namespace, dimensions and the three metric names. `latency` is read as its p99.
 */
export const CloudWatchMetricsSchema = z.union([
  z.strictObject({
    alb: z.string().regex(/^app\/[^/]+\/[0-9a-f]+$/, {
      error: 'expected the load balancer full name, app/<name>/<id> (the end of its ARN)',
    }),
  }),
  z.strictObject({
    namespace: z.string().min(1),
    dimensions: z.record(z.string(), z.string()).default({}),
    /** a count per minute (Sum) */
    requests: z.string().min(1),
    /** a count per minute (Sum) of the failed requests */
    errors: z.string().min(1),
    latency: z.string().min(1),
    latency_unit: z.enum(['milliseconds', 'seconds']).default('milliseconds'),
  }),
]);
export type CloudWatchMetrics = z.infer<typeof CloudWatchMetricsSchema>;

export const ServiceSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, {
    error: 'expected a lower-case service name of letters, digits and dashes (at most 40)',
  }),
  display_name: z.string().optional(),
  environment: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,19}$/)
    .default('production'),
  tracker: z.strictObject({
    list_id: z.string().min(1),
    input_status: z.string().optional(),
    deploying_status: z.string().optional(),
    output_status: z.string().optional(),
    failure_status: z.string().optional(),
  }),
  /** the GitHub repository (owner/name) of the service; a task's "Repository" field overrides it */
  repository: z
    .string()
    .regex(/^[\w.-]+\/[\w.-]+$/, { error: 'expected a repository as owner/name' })
    .optional(),
  links: z.record(z.string(), z.url()).default({}),
  gates: GatesSchema.default(GatesSchema.parse({})),
  approvers: z.array(ApproverSchema).default([]),
  approval: z
    .strictObject({
      required: z.boolean().optional(),
      timeout: duration('s')
        .default(86400)
        .refine((s) => s >= 300 && s <= 7 * 86400, {
          error: 'the approval timeout must be between 5m and 7d',
        }),
      /** how many different approvers must approve (N of M) */
      quorum: z
        .number({ error: 'expected the number of approvals needed, e.g. 2' })
        .int()
        .min(1, { error: 'the quorum is at least 1' })
        .max(20)
        .default(1),
      /** whether the person who moved the task (or commented /deploy) may approve it */
      allow_self_approval: z.boolean().default(false),
      /** who may approve alone, with a mandatory reason, when the approvers cannot be reached (audited loudly) */
      break_glass: z.array(ApproverSchema).default([]),
    })
    .default({ timeout: 86400, quorum: 1, allow_self_approval: false, break_glass: [] }),
  steps: z.array(StepSchema).min(1, { error: 'a service needs at least one deployment step' }),
  verification: z.array(CheckSchema).default([]),
  monitoring: z
    .strictObject({
      period: duration('m').optional(),
      report_interval: duration('m').default(15),
      check_interval: duration('s').default(60),
      health_url: z.url().optional(),
      metrics_url: z.url().optional(),
      triggers: TriggersSchema.partial().default({}),
      alarms: z.array(z.string()).default([]),
      /** where the service's metrics are in CloudWatch: the stack creates its trigger alarms from them */
      cloudwatch: CloudWatchMetricsSchema.optional(),
      /**
       * an alarm already in ALARM when the bake starts: `ignore` leaves it to the "No alarms firing" gate (the
       * seed's rule: only alarms that change to ALARM after the deploy count); `breach` rolls back on it too
       */
      alarms_firing_at_start: z
        .enum(ALARMS_FIRING_AT_START, {
          error: `expected alarms_firing_at_start to be one of ${ALARMS_FIRING_AT_START.join(', ')}`,
        })
        .default('ignore'),
      /**
       * an alarm that does not exist or cannot be read, and a trigger read that fails: `breaching` rolls back
       * (fail safe); `notBreaching` bakes on and reports it as a warning
       */
      unreadable_alarms: z
        .enum(UNREADABLE_ALARMS, {
          error: `expected unreadable_alarms to be one of ${UNREADABLE_ALARMS.join(', ')}`,
        })
        .default('breaching'),
    })
    .default({
      report_interval: 900,
      check_interval: 60,
      triggers: {},
      alarms: [],
      alarms_firing_at_start: 'ignore',
      unreadable_alarms: 'breaching',
    }),
  rollback: z
    .strictObject({
      enabled: z.boolean().optional(),
      keep_database: z.boolean().default(true),
    })
    .default({ keep_database: true }),
});
export type Service = z.infer<typeof ServiceSchema>;

/** The seed's `devops_agent` block: agent-wide settings that services inherit. */
export const AgentSettingsSchema = z.strictObject({
  poll_interval: duration('s').default(300),
  require_human_approval: z.boolean().default(true),
  monitoring_period: duration('m').default(3600),
  auto_rollback_enabled: z.boolean().default(true),
  rollback_triggers: TriggersSchema.default(TriggersSchema.parse({})),
  verification_timeout: duration('s').default(300),
  input_status: z.string().min(1).default('Ready to Deploy'),
  output_status: z.string().min(1).default('Deployed'),
  /** the task status while the steps run and the service bakes (unchanged when unset) */
  deploying_status: z.string().min(1).optional(),
  /** the task status after a rollback or a failed rollback (unchanged when unset) */
  failure_status: z.string().min(1).optional(),
  bot_user_id: z.string().optional(),
});
export type AgentSettings = z.infer<typeof AgentSettingsSchema>;

export const ConfigSchema = z
  .strictObject({
    devops_agent: AgentSettingsSchema.default(AgentSettingsSchema.parse({})),
    services: z.array(ServiceSchema).min(1, { error: 'configure at least one service' }),
  })
  .superRefine((config, ctx) => {
    const seen = new Set<string>();
    config.services.forEach((service, index) => {
      const key = `${service.name}/${service.environment}`;
      if (seen.has(key)) {
        ctx.addIssue({
          code: 'custom',
          path: ['services', index, 'name'],
          message: `service ${key} is configured twice; give each service/environment one block`,
        });
      }
      seen.add(key);
      const needsApproval = service.approval.required ?? config.devops_agent.require_human_approval;
      if (needsApproval && service.approvers.length === 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['services', index, 'approvers'],
          message: `${service.name} needs a human approval but lists no approvers, so nobody could approve it; add approvers ({ email } or { clickup_user_id }) or set approval.required: false`,
        });
      }
      if (service.approval.quorum > service.approvers.length && service.approvers.length > 0) {
        ctx.addIssue({
          code: 'custom',
          path: ['services', index, 'approval', 'quorum'],
          message: `the quorum (${service.approval.quorum}) is more than the ${service.approvers.length} approver(s) listed; list more approvers or lower the quorum`,
        });
      }
      const stepNames = new Set<string>();
      service.steps.forEach((step, stepIndex) => {
        if (stepNames.has(step.name)) {
          ctx.addIssue({
            code: 'custom',
            path: ['services', index, 'steps', stepIndex, 'name'],
            message: `step name "${step.name}" is used twice in ${service.name}; step names must be unique`,
          });
        }
        stepNames.add(step.name);
      });
    });
  });
export type Config = z.infer<typeof ConfigSchema>;

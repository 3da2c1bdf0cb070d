import * as z from 'zod';

/**
 * State names are the contract between the definition, the Lambda wiring and the local runner's registry.
 * Task states map one-to-one to functions under `functions/<kebab-name>/`.
 */
export const TaskStates = {
  Acknowledge: 'Acknowledge',
  AcquireLock: 'AcquireLock',
  CheckGates: 'CheckGates',
  ReportBlocked: 'ReportBlocked',
  CreatePlan: 'CreatePlan',
  RequestApproval: 'RequestApproval',
  ReportHeld: 'ReportHeld',
  ExecuteStep: 'ExecuteStep',
  Verify: 'Verify',
  StartMonitoring: 'StartMonitoring',
  Monitor: 'Monitor',
  ReportStatus: 'ReportStatus',
  Finalize: 'Finalize',
  Rollback: 'Rollback',
  VerifyRollback: 'VerifyRollback',
  ReportFailure: 'ReportFailure',
  EscalateRollbackFailure: 'EscalateRollbackFailure',
  ReleaseLock: 'ReleaseLock',
} as const;
export type TaskStateName = keyof typeof TaskStates;
export const TASK_STATE_NAMES = Object.keys(TaskStates) as TaskStateName[];

/** Task states that wait for a task token (SendTaskSuccess / SendTaskFailure) instead of returning. */
export const CALLBACK_STATES: readonly TaskStateName[] = ['RequestApproval', 'Monitor'];

export const Outcomes = ['deployed', 'blocked', 'held', 'rolled-back', 'failed'] as const;
export type Outcome = (typeof Outcomes)[number];

export const TRIGGERS = ['status', 'comment', 'poll', 'cli', 'demo'] as const;

/** What starts a deployment: the execution input. The deployment id is also the execution name. */
export const DeploymentRequestSchema = z.object({
  deploymentId: z.string().regex(/^[A-Za-z0-9_-]{1,80}$/, {
    error: 'deploymentId must be 1-80 letters, digits, "-" or "_" (it is the execution name)',
  }),
  taskId: z.string().min(1),
  service: z.string().min(1),
  environment: z.string().min(1),
  trigger: z.enum(TRIGGERS),
  requestedBy: z.string().optional(),
  /** every identity of who asked (ClickUp user id, email): they may not approve when self-approval is forbidden */
  requesterIds: z.array(z.string().min(1).max(320)).max(4).optional(),
  requestedAt: z.iso.datetime(),
  /** the delivery that asked (`clickup:<webhook id>:<history item id>`): a late duplicate starts nothing */
  sourceEvent: z.string().min(1).max(200).optional(),
  /**
   * a rollback run: undo this finished deployment's steps from what they recorded (no gates, plan or
   * approval; the lock and the reports as usual)
   */
  rollbackOf: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,80}$/)
    .optional(),
  /** why, for the rollback run: who asked and what they said */
  reason: z.string().min(1).max(2000).optional(),
});
export type DeploymentRequest = z.infer<typeof DeploymentRequestSchema>;

export const WorkflowSettingsSchema = z.object({
  requireApproval: z.boolean(),
  approvalTimeoutSeconds: z.number().int().positive(),
  autoRollback: z.boolean(),
  stepCount: z.number().int().nonnegative(),
});

export const LockResultSchema = z.object({ acquired: z.boolean(), position: z.number().int().nonnegative() });
export const GatesResultSchema = z.object({ passed: z.boolean(), failed: z.array(z.string()) });
export const PlanResultSchema = z.object({
  hash: z.string(),
  key: z.string(),
  risk: z.enum(['low', 'medium', 'high']),
});
export const ProgressSchema = z.object({ next: z.number().int().nonnegative(), done: z.boolean() });
export const MonitorStateSchema = z.object({ waitSeconds: z.number().int().positive(), done: z.boolean() });
export const CaughtErrorSchema = z.object({ Error: z.string(), Cause: z.string().optional() });

/**
 * The execution state every Task receives as `$`. Tasks write their results under their own key
 * (ResultPath), so the state stays small: details live in the DeploymentStore, not in the execution.
 */
export const DeploymentStateSchema = DeploymentRequestSchema.extend({
  settings: WorkflowSettingsSchema.optional(),
  lock: LockResultSchema.optional(),
  gates: GatesResultSchema.optional(),
  plan: PlanResultSchema.optional(),
  approval: z.unknown().optional(),
  progress: ProgressSchema.optional(),
  monitor: MonitorStateSchema.optional(),
  error: CaughtErrorSchema.optional(),
  rollbackError: CaughtErrorSchema.optional(),
  reportError: CaughtErrorSchema.optional(),
  outcome: z.enum(Outcomes).optional(),
}).loose();
export type DeploymentState = z.infer<typeof DeploymentStateSchema>;

/** The payload a callback Task (RequestApproval, Monitor) receives: the state plus its task token. */
export const CallbackPayloadSchema = z.object({ token: z.string().min(1), state: DeploymentStateSchema });
export type CallbackPayload = z.infer<typeof CallbackPayloadSchema>;

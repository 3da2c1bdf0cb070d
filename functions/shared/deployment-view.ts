import type { Config } from './config/schema.js';
import {
  type ApprovalRecord,
  type DeploymentRecord,
  FINISHED_STATUSES,
  type StepRecord,
} from './ports/deployment-store.js';

/**
 * A deployment as an operator follows it (`devops-agent status` and `history`): where it is, the step
 * progress, the approval, the bake and how it ended. Pure: made from the record, its approval and the
 * configuration, so the local runtime and an AWS adapter give the same view.
 */
export interface DeploymentView
  extends Pick<
    DeploymentRecord,
    | 'deploymentId'
    | 'taskId'
    | 'taskName'
    | 'service'
    | 'environment'
    | 'trigger'
    | 'requestedBy'
    | 'status'
    | 'stage'
    | 'outcome'
    | 'createdAt'
    | 'finishedAt'
  > {
  finished: boolean;
  /** from the start to the end, or to now while it runs */
  durationSeconds: number;
  /** while queued for the service/environment lock: the place in the queue (1: next) */
  queuePosition?: number;
  steps: { done: number; total: number; current?: string; failed?: string };
  approval?: {
    status: ApprovalRecord['status'];
    approvals: number;
    quorum: number;
    approvers: string[];
    votes: { by: string; decision: 'approve' | 'hold'; channel: string; at: string; comment?: string }[];
    expiresAt: string;
    decidedBy?: string;
  };
  bake?: {
    startedAt: string;
    endsAt: string;
    elapsedSeconds: number;
    totalSeconds: number;
    /** 0 to 100 */
    percent: number;
    /** the last status report's verdict, when there was one */
    withinTargets?: boolean;
    breach?: string;
  };
  rollback?: { reason: string; steps: { done: number; total: number }; error?: string };
  error?: { name: string; message: string };
  /** a report that could not be made (the task's status or comment): the task may not show this outcome */
  reportError?: { name: string; message: string };
  /** the deployment record document's key in the artifact store, once written */
  recordKey?: string;
}

const seconds = (from: string, to: number) => Math.max(0, (to - Date.parse(from)) / 1000);

const stepsDone = (steps: StepRecord[]) =>
  steps.filter((s) => s.status === 'succeeded' || s.status === 'kept' || s.status === 'rolled-back').length;

/** The view of one deployment at `now`. */
export const deploymentView = (
  record: DeploymentRecord,
  approval: ApprovalRecord | undefined,
  config: Config,
  now: Date,
): DeploymentView => {
  const finished = FINISHED_STATUSES.includes(record.status);
  const end = record.finishedAt ? Date.parse(record.finishedAt) : now.getTime();
  const service = config.services.find(
    (s) => s.name === record.service && s.environment === record.environment,
  );
  const planned = record.plan?.steps?.map((s) => s.name) ?? service?.steps.map((s) => s.name) ?? [];
  const total = Math.max(planned.length, record.steps.length);
  const running = record.steps.find((s) => s.status === 'running');
  const failed = record.steps.find((s) => s.status === 'failed');
  // between two steps nothing is `running` yet: the next planned one is what comes
  const next = record.status === 'deploying' && !running ? planned[record.steps.length] : undefined;
  const current = running?.name ?? next;
  const monitoring = record.monitoring;
  const lastReport = monitoring?.reports.at(-1);
  const bakeTotal = monitoring ? seconds(monitoring.startedAt, Date.parse(monitoring.endsAt)) : 0;
  const bakeElapsed = monitoring ? Math.min(bakeTotal, seconds(monitoring.startedAt, end)) : 0;
  return {
    deploymentId: record.deploymentId,
    taskId: record.taskId,
    taskName: record.taskName,
    service: record.service,
    environment: record.environment,
    trigger: record.trigger,
    ...(record.requestedBy ? { requestedBy: record.requestedBy } : {}),
    status: record.status,
    stage: record.stage,
    finished,
    ...(record.outcome ? { outcome: record.outcome } : {}),
    createdAt: record.createdAt,
    ...(record.finishedAt ? { finishedAt: record.finishedAt } : {}),
    durationSeconds: seconds(record.createdAt, end),
    ...(record.status === 'queued' && record.queuePosition ? { queuePosition: record.queuePosition } : {}),
    steps: {
      done: stepsDone(record.steps),
      total,
      ...(current && !finished ? { current } : {}),
      ...(failed ? { failed: failed.name } : {}),
    },
    ...(approval
      ? {
          approval: {
            status: approval.status,
            approvals: approval.votes.filter((v) => v.decision === 'approve').length,
            quorum: approval.quorum,
            approvers: approval.approvers,
            votes: approval.votes.map((v) => ({
              by: v.by,
              decision: v.decision,
              channel: v.channel,
              at: v.at,
              ...(v.comment ? { comment: v.comment } : {}),
            })),
            expiresAt: approval.expiresAt,
            ...(approval.decidedBy ? { decidedBy: approval.decidedBy } : {}),
          },
        }
      : {}),
    ...(monitoring
      ? {
          bake: {
            startedAt: monitoring.startedAt,
            endsAt: monitoring.endsAt,
            elapsedSeconds: bakeElapsed,
            totalSeconds: bakeTotal,
            percent: bakeTotal > 0 ? Math.round((bakeElapsed / bakeTotal) * 100) : 100,
            ...(lastReport ? { withinTargets: lastReport.withinTargets } : {}),
            ...(monitoring.breach ? { breach: monitoring.breach } : {}),
          },
        }
      : {}),
    ...(record.rollback
      ? {
          rollback: {
            reason: record.rollback.reason,
            steps: {
              done: record.rollback.steps.filter((s) => s.status === 'rolled-back' || s.status === 'kept')
                .length,
              total: record.rollback.steps.length,
            },
            ...(record.rollback.error ? { error: record.rollback.error } : {}),
          },
        }
      : {}),
    ...(record.error ? { error: record.error } : {}),
    ...(record.reportError ? { reportError: record.reportError } : {}),
    ...(record.recordKey ? { recordKey: record.recordKey } : {}),
  };
};

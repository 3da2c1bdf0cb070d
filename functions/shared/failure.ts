import { ErrorNames } from './errors.js';
import type { DeploymentRecord } from './ports/deployment-store.js';

export interface FailureDescription {
  failedAt: string;
  error: string;
  rootCause: string;
  action: string;
}

/** Turns the caught error and the record into the seed's "Failed at / Error / Root cause / Action" lines. */
export const describeFailure = (
  record: DeploymentRecord,
  caught: { Error: string; Cause?: string } | undefined,
): FailureDescription => {
  const name = caught?.Error ?? record.error?.name ?? 'Error';
  const cause = caught?.Cause ?? record.error?.message ?? 'unknown';
  const failedStep = record.steps.find((s) => s.status === 'failed');
  const release = record.steps
    .filter((s) => s.status === 'succeeded')
    .map((s) => s.name)
    .join(', ');
  switch (name) {
    case ErrorNames.stepFailed:
      return {
        failedAt: failedStep ? `${failedStep.name} step` : 'a deployment step',
        error: failedStep?.error ?? cause,
        rootCause: `the "${failedStep?.name ?? 'step'}" command failed: ${failedStep?.error ?? cause}`,
        action:
          'fix the step (see its output in the deployment record), then move the task to the input status again',
      };
    case ErrorNames.verificationFailed:
      return {
        failedAt: 'verification',
        error: cause,
        rootCause: `the release did not pass its checks after deploying: ${cause}`,
        action: 'reproduce the failing check against a staging deploy of the same release',
      };
    case ErrorNames.alarmBreached:
      return {
        failedAt: 'post-deploy monitoring',
        error: cause,
        rootCause: `the release deployed by ${release || 'the steps'} degraded production during the bake: ${cause}`,
        action: "investigate the release's errors in the service logs for the bake window before redeploying",
      };
    case ErrorNames.rollbackRequested:
      return {
        failedAt: 'manual rollback request',
        error: cause,
        rootCause: cause,
        action: 'see the request for the reason',
      };
    case ErrorNames.transient: {
      const running = record.steps.find((s) => s.status === 'running');
      return {
        failedAt: running ? `${running.name} step` : 'a dependency call',
        error: `${name}: ${cause}`,
        rootCause: `a dependency stayed unavailable through every retry: ${cause}`,
        action: 'check the dependency the error names, then move the task to the input status again',
      };
    }
    default:
      return {
        failedAt: record.stage,
        error: `${name}: ${cause}`,
        rootCause: `${name} while ${record.stage}: ${cause}`,
        action: 'check the deployment record and the agent logs',
      };
  }
};

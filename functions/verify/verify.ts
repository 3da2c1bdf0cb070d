import { formatChecks, runChecks } from '../shared/checks.js';
import { contextFor, stepContextFor } from '../shared/deployment.js';
import { VerificationFailedError } from '../shared/errors.js';
import type { Ports } from '../shared/ports/index.js';

/** Runs the verification checks within `verification_timeout`; any failure rolls the deployment back. */
export const verify = async (
  input: unknown,
  ports: Pick<Ports, 'config' | 'tracker' | 'store' | 'checks' | 'clock'>,
): Promise<void> => {
  const { state, service, settings } = contextFor(input, ports);
  await ports.store.updateDeployment(state.deploymentId, { stage: 'Verify', status: 'verifying' });
  const record = await ports.store.getDeployment(state.deploymentId);
  const results = await runChecks(
    service.verification,
    settings.verificationTimeoutSeconds,
    ports,
    record?.baselines,
    (await stepContextFor(state, ports.tracker)).vars,
  );
  await ports.store.updateDeployment(state.deploymentId, { verification: results });
  const failed = results.filter((r) => !r.passed);
  if (results.length > 0) {
    await ports.tracker.comment(
      state.taskId,
      `${failed.length === 0 ? '✓ Verification passed' : '❌ Verification failed'}\n${formatChecks(results)}`,
    );
  }
  if (failed.length > 0) {
    const message = failed.map((r) => `${r.name}: ${r.detail}`).join('; ');
    await ports.store.updateDeployment(state.deploymentId, {
      error: { name: VerificationFailedError.name, message },
    });
    throw new VerificationFailedError(message);
  }
};

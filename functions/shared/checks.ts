import type { Check } from './config/schema.js';
import { StepKindUnsupportedError } from './errors.js';
import type { CheckResult } from './ports/deployment-store.js';
import type { Ports } from './ports/index.js';

const RETRY_MS = 1000;

/**
 * Runs every check, retrying the failing ones until they pass or `timeoutSeconds` is spent: a rollout is
 * often healthy a few seconds after it reports done. Returns the last result of each check.
 */
export const runChecks = async (
  checks: Check[],
  timeoutSeconds: number,
  ports: Pick<Ports, 'checks' | 'clock'>,
): Promise<CheckResult[]> => {
  const deadline = ports.clock.now().getTime() + timeoutSeconds * 1000;
  const results: CheckResult[] = [];
  for (const check of checks) {
    const runner = ports.checks[check.kind];
    if (!runner)
      throw new StepKindUnsupportedError(`no runner for ${check.kind} check "${check.name}" in this runtime`);
    let result = await runner.run(check);
    while (!result.passed && ports.clock.now().getTime() + RETRY_MS < deadline && ports.clock.sleep) {
      await ports.clock.sleep(RETRY_MS);
      result = await runner.run(check);
    }
    results.push(result);
  }
  return results;
};

export const formatChecks = (results: CheckResult[]): string =>
  results.map((r) => `${r.passed ? '✓' : '✗'} ${r.name}: ${r.detail}`).join('\n');

import type { Check } from './config/schema.js';
import { errorMessage, StepKindUnsupportedError } from './errors.js';
import type { CheckResult } from './ports/deployment-store.js';
import type { Ports } from './ports/index.js';

/** How long apart a check without its own `retry_interval` (a rollout) is tried again. */
const RETRY_MS = 1000;

/**
 * A check's own retry policy (`retries`, `retry_interval`); a kind without one is tried until the time is
 * spent, as a rollout is often healthy a few seconds after it reports done.
 */
const retryPolicy = (check: Check): { attempts: number; intervalMs: number } =>
  'retries' in check
    ? { attempts: check.retries + 1, intervalMs: Math.round(check.retry_interval * 1000) }
    : { attempts: Number.POSITIVE_INFINITY, intervalMs: RETRY_MS };

const runnerFor = (check: Check, ports: Pick<Ports, 'checks'>) => {
  const runner = ports.checks[check.kind];
  if (!runner)
    throw new StepKindUnsupportedError(`no runner for ${check.kind} check "${check.name}" in this runtime`);
  return runner;
};

/**
 * Runs every check, retrying a failing one as its `retries` and `retry_interval` say. This is the one place
 * that bounds verification by `timeoutSeconds`: no retry starts after the deadline, each attempt is told the
 * time left, and a check reached after the deadline is reported as not run. Returns the last result of
 * each check. `baselines` (check name → value) are what `takeBaselines` read before the deploy.
 *
 * @example
 * const results = await runChecks(service.verification, settings.verificationTimeoutSeconds, ports);
 */
export const runChecks = async (
  checks: Check[],
  timeoutSeconds: number,
  ports: Pick<Ports, 'checks' | 'clock'>,
  baselines: Readonly<Record<string, string>> = {},
  vars?: Record<string, string>,
): Promise<CheckResult[]> => {
  const deadline = ports.clock.now().getTime() + timeoutSeconds * 1000;
  const left = () => deadline - ports.clock.now().getTime();
  const results: CheckResult[] = [];
  for (const check of checks) {
    const runner = runnerFor(check, ports);
    if (left() <= 0) {
      results.push({
        name: check.name,
        kind: check.kind,
        passed: false,
        detail: `not run: the verification_timeout of ${timeoutSeconds} s was spent by the checks before it`,
        durationMs: 0,
      });
      continue;
    }
    const { attempts, intervalMs } = retryPolicy(check);
    const baseline = baselines[check.name];
    const attempt = () =>
      runner.run(check, {
        timeoutMs: left(),
        ...(baseline === undefined ? {} : { baseline }),
        ...(vars ? { vars } : {}),
      });
    let result = await attempt();
    let attempted = 1;
    while (!result.passed && attempted < attempts && ports.clock.sleep && intervalMs < left()) {
      await ports.clock.sleep(intervalMs);
      result = await attempt();
      attempted += 1;
    }
    results.push(
      attempted > 1
        ? { ...result, detail: `${result.detail} (attempt ${attempted})`, attempts: attempted }
        : result,
    );
  }
  return results;
};

/**
 * Reads, before the steps run, what the checks compare with afterwards (`expect_not_less_than_before`):
 * check name → value, for the record, to hand to `runChecks` after the deploy. A value that cannot be read
 * is a problem named in `problems` (its check then fails for want of a value to compare with).
 */
export const takeBaselines = async (
  checks: Check[],
  timeoutSeconds: number,
  ports: Pick<Ports, 'checks' | 'clock'>,
): Promise<{ baselines: Record<string, string>; problems: string[] }> => {
  const deadline = ports.clock.now().getTime() + timeoutSeconds * 1000;
  const baselines: Record<string, string> = {};
  const problems: string[] = [];
  for (const check of checks) {
    const runner = runnerFor(check, ports);
    if (!runner.baseline) continue;
    try {
      const read = await runner.baseline(check, {
        timeoutMs: Math.max(0, deadline - ports.clock.now().getTime()),
      });
      if (!read) continue;
      if (read.value === undefined) problems.push(`${check.name}: ${read.detail}`);
      else baselines[check.name] = read.value;
    } catch (error) {
      problems.push(`${check.name}: ${errorMessage(error)}`);
    }
  }
  return { baselines, problems };
};

export const formatChecks = (results: CheckResult[]): string =>
  results.map((r) => `${r.passed ? '✓' : '✗'} ${r.name}: ${r.detail}`).join('\n');

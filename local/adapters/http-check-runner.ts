import type { Check, HttpCheck } from '../../functions/shared/config/schema.js';
import { BadRequestError, errorMessage } from '../../functions/shared/errors.js';
import type { CheckResult } from '../../functions/shared/ports/deployment-store.js';
import type { CheckRunner } from '../../functions/shared/ports/step-runner.js';

export interface HttpCheckRunnerOptions {
  /** how long one request may take before it counts as failed (ms); `max_latency` is judged separately */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Reads `a.b.0.c` from parsed JSON. */
const at = (value: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((current, key) => {
    if (current === null || typeof current !== 'object') return undefined;
    return (current as Record<string, unknown>)[key];
  }, value);

const matches = (actual: unknown, expected: string | number | boolean): boolean =>
  actual === expected ||
  // a number sent as a string (or the reverse) is the same answer to a person reading the check
  ((typeof actual === 'number' || typeof actual === 'string') &&
    typeof expected !== 'boolean' &&
    String(actual) === String(expected));

const show = (value: unknown): string => (value === undefined ? '(missing)' : JSON.stringify(value));

/**
 * Runs `http` verification checks with `fetch`: expected status, expected JSON fields (dot paths) and the
 * latency limit. A failing endpoint is an answer (`passed: false` with a readable `detail`), never a throw;
 * only a check that is not an `http` check throws.
 */
export class HttpCheckRunner implements CheckRunner {
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;

  constructor(options: HttpCheckRunnerOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetch = options.fetch ?? globalThis.fetch;
  }

  async run(check: Check): Promise<CheckResult> {
    if (check.kind !== 'http') {
      throw new BadRequestError(`HttpCheckRunner runs http checks, not ${check.kind} ("${check.name}")`);
    }
    const started = performance.now();
    const result = (passed: boolean, detail: string): CheckResult => ({
      name: check.name,
      kind: check.kind,
      passed,
      detail,
      durationMs: Math.round(performance.now() - started),
    });
    let status: number;
    let text: string;
    try {
      const response = await this.fetch(check.url, {
        method: check.method,
        headers: check.headers,
        ...(check.body !== undefined && check.method !== 'GET' && check.method !== 'HEAD'
          ? { body: check.body }
          : {}),
        redirect: 'manual',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      const ms = Math.round(performance.now() - started);
      const name = (error as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        return result(false, `no answer within ${this.timeoutMs} ms`);
      }
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      return result(
        false,
        `request failed after ${ms} ms: ${cause?.code ?? cause?.message ?? errorMessage(error)}`,
      );
    }
    const ms = Math.round(performance.now() - started);
    return this.judge(check, status, text, ms, result);
  }

  private judge(
    check: HttpCheck,
    status: number,
    text: string,
    ms: number,
    result: (passed: boolean, detail: string) => CheckResult,
  ): CheckResult {
    const problems: string[] = [];
    const seen: string[] = [];
    if (status !== check.expect_status) problems.push(`expected ${check.expect_status}`);
    if (check.max_latency !== undefined) {
      const maxMs = Math.round(check.max_latency * 1000);
      if (ms > maxMs) problems.push(`slower than ${maxMs} ms`);
    }
    const expected = Object.entries(check.expect_body ?? {});
    if (expected.length > 0) {
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        problems.push(`body is not JSON (${JSON.stringify(text.slice(0, 80))})`);
      }
      if (body !== undefined) {
        for (const [path, want] of expected) {
          const actual = at(body, path);
          if (matches(actual, want))
            seen.push(`${path}=${typeof actual === 'string' ? actual : show(actual)}`);
          else problems.push(`${path}=${show(actual)}, expected ${show(want)}`);
        }
      }
    }
    const head = `${status} in ${ms} ms`;
    if (problems.length === 0) return result(true, [head, ...seen].join(', '));
    return result(false, [head, ...problems].join(', '));
  }
}

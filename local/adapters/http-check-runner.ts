import type { Check, HttpCheck } from '../../functions/shared/config/schema.js';
import { BadRequestError, errorMessage } from '../../functions/shared/errors.js';
import type { CheckResult } from '../../functions/shared/ports/deployment-store.js';
import type { CheckRunner, CheckRunOptions, SecretLookup } from '../../functions/shared/ports/step-runner.js';

export interface HttpCheckRunnerOptions {
  /** how long one request may take before it counts as failed (ms); `max_latency` is judged separately */
  timeoutMs?: number;
  fetch?: typeof fetch;
  /** reads the credential `auth.secret` names: an environment variable locally, a secret on AWS */
  secret?: SecretLookup;
}

type Auth = NonNullable<HttpCheck['auth']>;

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

/** The header `auth` adds, or why it cannot. */
const authHeader = (auth: Auth, value: string): { name: string; value: string } | { problem: string } => {
  if (auth.scheme === 'Bearer') return { name: 'authorization', value: `Bearer ${value}` };
  if (auth.scheme === 'Basic') {
    if (!value.includes(':'))
      return { problem: `auth secret ${auth.secret} should hold user:password for Basic` };
    return { name: 'authorization', value: `Basic ${Buffer.from(value).toString('base64')}` };
  }
  return { name: auth.scheme.slice('header:'.length), value };
};

/**
 * Runs `http` verification checks with `fetch`: expected status, expected JSON fields (dot paths), the
 * latency limit, and a credential from a secret (`auth`) that never appears in a result. A failing endpoint
 * is an answer (`passed: false` with a readable `detail`), never a throw; only a check that is not an `http`
 * check throws. One call is one attempt: `runChecks` retries as the check's `retries` say.
 */
export class HttpCheckRunner implements CheckRunner {
  private readonly timeoutMs: number;
  private readonly fetch: typeof fetch;
  private readonly secret: SecretLookup | undefined;

  constructor(options: HttpCheckRunnerOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.secret = options.secret;
  }

  async run(check: Check, options: CheckRunOptions = {}): Promise<CheckResult> {
    if (check.kind !== 'http') {
      throw new BadRequestError(`HttpCheckRunner runs http checks, not ${check.kind} ("${check.name}")`);
    }
    const started = performance.now();
    const hidden: string[] = [];
    const result = (passed: boolean, detail: string): CheckResult => ({
      name: check.name,
      kind: check.kind,
      passed,
      // an endpoint may echo the credential back (a debug page, an error body): it never reaches a result
      detail: hidden.reduce((text, secret) => text.split(secret).join('***'), detail),
      durationMs: Math.round(performance.now() - started),
    });
    const headers = new Headers(check.headers);
    if (check.auth) {
      const credential = await this.credential(check.auth);
      if ('problem' in credential) return result(false, credential.problem);
      const header = authHeader(check.auth, credential.value);
      if ('problem' in header) return result(false, header.problem);
      // the longer first, so `Bearer <token>` goes as a whole
      hidden.push(header.value, credential.value);
      headers.set(header.name, header.value);
    }
    const timeoutMs = Math.max(1, Math.round(Math.min(this.timeoutMs, options.timeoutMs ?? this.timeoutMs)));
    let status: number;
    let text: string;
    try {
      const response = await this.fetch(check.url, {
        method: check.method,
        headers,
        ...(check.body !== undefined && check.method !== 'GET' && check.method !== 'HEAD'
          ? { body: check.body }
          : {}),
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = response.status;
      text = await response.text();
    } catch (error) {
      const ms = Math.round(performance.now() - started);
      const name = (error as Error).name;
      if (name === 'TimeoutError' || name === 'AbortError') {
        return result(false, `no answer within ${timeoutMs} ms`);
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

  private async credential(auth: Auth): Promise<{ value: string } | { problem: string }> {
    if (!this.secret) return { problem: `auth secret ${auth.secret} cannot be read in this runtime` };
    try {
      const value = await this.secret(auth.secret);
      return value ? { value } : { problem: `auth secret ${auth.secret} is not set` };
    } catch (error) {
      // the error's name says enough (ResourceNotFoundException, AccessDeniedException); its text stays out
      return { problem: `cannot read auth secret ${auth.secret}: ${(error as Error).name ?? 'error'}` };
    }
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

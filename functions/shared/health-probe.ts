/** One probe of a service's `health_url`. */
export interface HealthSample {
  /** when the probe started (epoch ms) */
  at: number;
  /** a 2xx answer within the timeout */
  ok: boolean;
  /** the status code, or why there was no answer ("no answer in 2000 ms", ECONNREFUSED, …) */
  detail: string;
  /** how long the answer took (ms); absent without an answer */
  latencyMs?: number;
}

/**
 * GETs a health URL once. Any 2xx within `timeoutMs` is healthy; another status, a timeout, a refused
 * connection or a DNS failure is a failed check (never an exception: a health check always has a result).
 * The local monitor and the AWS health probe share it, so both count the same things as failures.
 */
export const probeHealth = async (
  url: string,
  options: { fetch: typeof fetch; timeoutMs: number; now: () => number },
): Promise<HealthSample> => {
  const at = options.now();
  try {
    // redirects are followed: a health URL moved to https is still healthy if the new place answers 2xx
    const response = await options.fetch(url, { signal: AbortSignal.timeout(options.timeoutMs) });
    await response.arrayBuffer();
    return { at, ok: response.ok, detail: `${response.status}`, latencyMs: options.now() - at };
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const name = (error as Error).name;
    return {
      at,
      ok: false,
      detail:
        name === 'TimeoutError'
          ? `no answer in ${options.timeoutMs} ms`
          : (cause?.code ?? cause?.message ?? (error as Error).message),
    };
  }
};

export interface Clock {
  now(): Date;
  /** Waits; cores use it between retries so tests can run them without real delays. */
  sleep?(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

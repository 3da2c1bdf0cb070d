import { Cron } from 'croner';

/** A recurring period in which nothing deploys: it starts at each `cron` match and lasts `durationSeconds`. */
export interface FreezeWindow {
  name: string;
  /** five fields (`minute hour day-of-month month day-of-week`), e.g. `0 15 * * FRI` */
  cron: string;
  durationSeconds: number;
  /** IANA time zone the cron fields are read in */
  timezone: string;
}

/** Why a cron expression or time zone is not usable, or undefined when it is. */
export const freezeWindowProblem = (cron: string, timezone: string): string | undefined => {
  if (cron.trim().split(/\s+/).length !== 5) {
    return `"${cron}" is not a five-field cron expression (minute hour day-of-month month day-of-week), e.g. "0 15 * * FRI"`;
  }
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    return `"${timezone}" is not an IANA time zone, e.g. "Europe/Berlin" or "UTC"`;
  }
  try {
    new Cron(cron, { timezone, paused: true });
  } catch (error) {
    return `"${cron}" is not a valid cron expression: ${(error as Error).message}`;
  }
  return undefined;
};

/**
 * The window `now` falls in, with the instant it started and ends, or undefined. A window is active when
 * one of its starts lies in (now − duration, now]: the first cron match after `now − duration` tells.
 */
export const activeFreeze = (
  windows: readonly FreezeWindow[],
  now: Date,
): { window: FreezeWindow; startedAt: Date; endsAt: Date } | undefined => {
  for (const window of windows) {
    const cron = new Cron(window.cron, { timezone: window.timezone, paused: true });
    // croner's nextRun is strictly after its argument: step back one more second to include `now - duration`
    const from = new Date(now.getTime() - window.durationSeconds * 1000 - 1000);
    const start = cron.nextRun(from);
    if (start && start.getTime() <= now.getTime()) {
      const endsAt = new Date(start.getTime() + window.durationSeconds * 1000);
      if (endsAt.getTime() > now.getTime()) return { window, startedAt: start, endsAt };
    }
  }
  return undefined;
};

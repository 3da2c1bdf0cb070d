import { activeFreeze, type FreezeWindow, freezeWindowProblem } from '../../../functions/shared/freeze.js';

/** Friday 15:00 to Monday 08:00 in Berlin: 65 hours. */
const WEEKEND: FreezeWindow = {
  name: 'Weekend',
  cron: '0 15 * * FRI',
  durationSeconds: 65 * 3600,
  timezone: 'Europe/Berlin',
};
const YEAR_END: FreezeWindow = {
  name: 'Year end',
  cron: '0 0 20 12 *',
  durationSeconds: 15 * 86400,
  timezone: 'UTC',
};

describe('freeze windows', () => {
  it.each([
    ['Friday 14:59 in Berlin (13:59 UTC)', '2026-11-27T13:59:00Z', undefined],
    ['Friday 15:00 in Berlin', '2026-11-27T14:00:00Z', 'Weekend'],
    ['Saturday noon', '2026-11-28T11:00:00Z', 'Weekend'],
    ['Monday 07:59 in Berlin', '2026-11-30T06:59:00Z', 'Weekend'],
    ['Monday 08:00 in Berlin', '2026-11-30T07:00:00Z', undefined],
    ['Wednesday', '2026-12-02T10:00:00Z', undefined],
    ['New Year, a Friday before 15:00', '2027-01-01T12:00:00Z', 'Year end'],
    ['New Year, a Friday after 15:00 (both windows)', '2027-01-01T15:00:00Z', 'Weekend'],
    ['Monday 4 January 07:59 in Berlin, after the year end', '2027-01-04T06:59:00Z', 'Weekend'],
    ['Monday 4 January 08:00 in Berlin', '2027-01-04T07:00:00Z', undefined],
    ['24 December, a Thursday', '2026-12-24T10:00:00Z', 'Year end'],
  ])('finds the active window on %s', (_when, at, expected) => {
    // Act
    const active = activeFreeze([WEEKEND, YEAR_END], new Date(at));

    // Assess
    expect(active?.window.name).toBe(expected);
  });

  it('says when the active window ends', () => {
    // Act
    const active = activeFreeze([WEEKEND], new Date('2026-11-28T11:00:00Z'));

    // Assess
    expect(active?.startedAt.toISOString()).toBe('2026-11-27T14:00:00.000Z');
    expect(active?.endsAt.toISOString()).toBe('2026-11-30T07:00:00.000Z');
  });

  it.each([
    ['0 15 * *', 'UTC', 'is not a five-field cron expression'],
    ['0 25 * * FRI', 'UTC', 'is not a valid cron expression'],
    ['0 15 * * FRI', 'Mars/Olympus', 'is not an IANA time zone'],
  ])('explains what is wrong with "%s" in %s', (cron, timezone, message) => {
    // Act
    const problem = freezeWindowProblem(cron, timezone);

    // Assess
    expect(problem).toContain(message);
  });

  it('accepts a valid window', () => {
    // Act
    const problem = freezeWindowProblem('0 15 * * FRI', 'Europe/Berlin');

    // Assess
    expect(problem).toBeUndefined();
  });
});

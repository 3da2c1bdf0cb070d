import { type DoraFigures, doraFigures, formatDora } from '../functions/shared/dora.js';
import type { DeploymentRecord } from '../functions/shared/ports/deployment-store.js';

/** How far back the console's DORA figures look. */
export const CONSOLE_DORA_DAYS = 30;

const DAY_MS = 86_400_000;

/** One deployment record document as the console lists it. */
export interface ConsoleRecord {
  deploymentId: string;
  taskName: string;
  service: string;
  environment: string;
  outcome: string;
  finishedAt?: string;
  /** the document, served at `/artifacts/<key>` */
  recordKey: string;
}

/**
 * What the console shows of the records: every deployment's record document, newest first, and the DORA
 * figures of the last 30 days (as data and as the Markdown lines `formatDora` writes).
 */
export const recordsView = (
  deployments: DeploymentRecord[],
  now: Date,
): { records: ConsoleRecord[]; dora: { days: number; figures: DoraFigures; lines: string[] } } => {
  const records = deployments
    .filter((d): d is DeploymentRecord & { recordKey: string } => typeof d.recordKey === 'string')
    .map((d) => ({
      deploymentId: d.deploymentId,
      taskName: d.taskName,
      service: d.service,
      environment: d.environment,
      outcome: d.outcome ?? d.status,
      ...(d.finishedAt ? { finishedAt: d.finishedAt } : {}),
      recordKey: d.recordKey,
    }))
    .sort((a, b) => (b.finishedAt ?? '').localeCompare(a.finishedAt ?? ''));
  const figures = doraFigures(deployments, {
    since: new Date(now.getTime() - CONSOLE_DORA_DAYS * DAY_MS),
    until: now,
  });
  return { records, dora: { days: CONSOLE_DORA_DAYS, figures, lines: formatDora(figures) } };
};

import type { DeploymentRecord } from '../../../functions/shared/ports/deployment-store.js';
import { recordsView } from '../../../local/console-records.js';
import { aDeployment } from '../../fixtures/records.js';

const NOW = new Date('2026-11-28T12:00:00.000Z');
const STEP = {
  index: 0,
  name: 'Deploy backend',
  kind: 'command',
  status: 'succeeded' as const,
  startedAt: '2026-11-20T10:00:00.000Z',
};

const finished = (id: string, finishedAt: string, overrides: Partial<DeploymentRecord> = {}) =>
  aDeployment({
    deploymentId: id,
    status: 'deployed',
    outcome: 'deployed',
    finishedAt,
    steps: [STEP],
    recordKey: `records/${id}.md`,
    ...overrides,
  });

describe('recordsView', () => {
  it('lists the record documents newest first and leaves out deployments without one', () => {
    // Prepare
    const deployments = [
      finished('old', '2026-11-20T10:00:00.000Z'),
      finished('new', '2026-11-27T10:00:00.000Z', { status: 'rolled-back', outcome: 'rolled-back' }),
      aDeployment({ deploymentId: 'running', status: 'monitoring' }),
    ];

    // Act
    const view = recordsView(deployments, NOW);

    // Assess
    expect(view.records).toEqual([
      {
        deploymentId: 'new',
        taskName: 'User Notifications',
        service: 'notifications',
        environment: 'production',
        outcome: 'rolled-back',
        finishedAt: '2026-11-27T10:00:00.000Z',
        recordKey: 'records/new.md',
      },
      expect.objectContaining({ deploymentId: 'old', outcome: 'deployed', recordKey: 'records/old.md' }),
    ]);
  });

  it('computes the DORA figures over the last 30 days only', () => {
    // Prepare
    const deployments = [
      finished('in', '2026-11-20T10:00:00.000Z', { release: { mergedAt: '2026-11-20T08:00:00.000Z' } }),
      finished('out', '2026-10-20T10:00:00.000Z'),
    ];

    // Act
    const { dora } = recordsView(deployments, NOW);

    // Assess
    expect(dora.days).toBe(30);
    expect(dora.figures.window).toEqual({
      since: '2026-10-29T12:00:00.000Z',
      until: '2026-11-28T12:00:00.000Z',
      days: 30,
    });
    expect(dora.figures.deploymentFrequency.deployed).toBe(1);
    expect(dora.lines).toContain(
      '- Lead time for changes (PR merged → Deployed): median 2 h, p90 2 h (1 deployment with a known merge time)',
    );
    expect(dora.lines).toContain('- Time to restore: no data');
  });
});

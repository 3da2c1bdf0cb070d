import { Metrics } from '@aws-lambda-powertools/metrics';
import { jest } from '@jest/globals';
import { finalize } from '../../../functions/finalize/finalize.js';
import { reportFailure } from '../../../functions/report-failure/report-failure.js';
import { rollback } from '../../../functions/rollback/rollback.js';
import { PowertoolsTelemetry } from '../../../functions/shared/adapters/powertools-telemetry.js';
import { AGENT_METRICS, MemoryTelemetry, recordFinished } from '../../../functions/shared/agent-metrics.js';
import { castVote } from '../../../functions/shared/approval-votes.js';
import { fakePorts } from '../../fixtures/ports.js';
import { aDeployment, anApproval, T1_STATE } from '../../fixtures/records.js';

/** The EMF lines Powertools writes to stdout while `act` runs. */
const emfWrittenBy = (act: () => void): Record<string, unknown>[] => {
  const lines: string[] = [];
  const write = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  try {
    act();
  } finally {
    write.mockRestore();
  }
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => '_aws' in l);
};

/** Fake ports with a deployment t1-1 created at 10:00 and an in-memory telemetry. */
const setup = async (record: Parameters<typeof aDeployment>[0] = {}) => {
  const f = fakePorts();
  const telemetry = new MemoryTelemetry();
  f.tracker.add({ id: 't1', name: 'User Notifications', customFields: {} });
  await f.store.createDeployment(aDeployment(record));
  return { ...f, telemetry, ports: { ...f.ports, telemetry } };
};

describe('recordFinished', () => {
  it('counts the finished deployment and its duration by outcome', () => {
    // Prepare
    const telemetry = new MemoryTelemetry();

    // Act
    recordFinished(telemetry, 'rolled-back', {
      startedAt: '2026-11-28T10:00:00.000Z',
      finishedAt: '2026-11-28T10:42:00.000Z',
    });

    // Assess
    expect(telemetry.recorded).toEqual([
      { name: 'DeploymentsFinished', unit: 'Count', value: 1, dimensions: { Outcome: 'rolled-back' } },
      {
        name: 'DeploymentDuration',
        unit: 'Milliseconds',
        value: 42 * 60_000,
        dimensions: { Outcome: 'rolled-back' },
      },
    ]);
  });

  it('counts the deployment without a duration when its start is unknown or after the end', () => {
    // Prepare
    const telemetry = new MemoryTelemetry();

    // Act
    recordFinished(telemetry, 'held', { finishedAt: '2026-11-28T10:00:00.000Z' });
    recordFinished(telemetry, 'held', { startedAt: 'not a date', finishedAt: '2026-11-28T10:00:00.000Z' });

    // Assess
    expect(telemetry.recorded.map((r) => r.name)).toEqual(['DeploymentsFinished', 'DeploymentsFinished']);
  });

  it('does nothing without a telemetry port (the local runtime)', () => {
    // Act, Assess
    expect(() =>
      recordFinished(undefined, 'deployed', { finishedAt: '2026-11-28T10:00:00.000Z' }),
    ).not.toThrow();
  });
});

describe('the cores report what they know', () => {
  it('finalize counts a deployed deployment with its duration from createdAt', async () => {
    // Prepare
    const f = await setup({ status: 'monitoring' });
    f.clock.advance(3900);

    // Act
    await finalize(T1_STATE, f.ports);

    // Assess
    expect(f.telemetry.recorded).toEqual([
      { name: 'DeploymentsFinished', unit: 'Count', value: 1, dimensions: { Outcome: 'deployed' } },
      {
        name: 'DeploymentDuration',
        unit: 'Milliseconds',
        value: 3_900_000,
        dimensions: { Outcome: 'deployed' },
      },
    ]);
  });

  it('report-failure counts a rolled-back deployment after a rollback, a failed one without', async () => {
    // Prepare
    const rolledBack = await setup({ status: 'rolling-back', rollback: { reason: 'p99', steps: [] } });
    const failed = await setup({ status: 'deploying' });
    const error = { Error: 'StepFailedError', Cause: 'boom' };

    // Act
    await reportFailure({ ...T1_STATE, error }, rolledBack.ports);
    await reportFailure({ ...T1_STATE, error }, failed.ports);

    // Assess
    const outcomes = (t: MemoryTelemetry) =>
      t.recorded.filter((r) => r.name === 'DeploymentsFinished').map((r) => r.dimensions.Outcome);
    expect(outcomes(rolledBack.telemetry)).toEqual(['rolled-back']);
    expect(outcomes(failed.telemetry)).toEqual(['failed']);
  });

  it('report-failure does not count a requested rollback run as a finished deployment', async () => {
    // Prepare
    const run = await setup({ status: 'rolling-back', rollback: { reason: 'asked', steps: [] } });

    // Act
    await reportFailure(
      { ...T1_STATE, rollbackOf: 't0-1', error: { Error: 'RollbackRequestedError', Cause: 'asked' } },
      run.ports,
    );

    // Assess
    expect(run.telemetry.recorded.filter((r) => r.name === 'DeploymentsFinished')).toEqual([]);
  });

  it('rollback counts one rollback when it starts', async () => {
    // Prepare
    const f = await setup({ status: 'monitoring' });

    // Act
    await rollback({ ...T1_STATE, error: { Error: 'MonitoringBreachError', Cause: 'p99' } }, f.ports);

    // Assess
    expect(f.telemetry.recorded).toEqual([{ name: 'Rollbacks', unit: 'Count', value: 1, dimensions: {} }]);
  });

  it('a deciding vote records how long the approval waited', async () => {
    // Prepare
    const f = await setup({ status: 'awaiting-approval' });
    await f.store.putApproval(anApproval({ createdAt: '2026-11-28T10:00:00.000Z' }));
    f.clock.advance(600);

    // Act
    await castVote(
      'appr0000000000000001',
      { by: 'lead@example.com', decision: 'approve', at: f.clock.now().toISOString(), channel: 'cli' },
      {},
      f.ports,
    );

    // Assess
    expect(f.telemetry.recorded).toEqual([
      { name: 'ApprovalWait', unit: 'Milliseconds', value: 600_000, dimensions: {} },
    ]);
  });
});

describe('PowertoolsTelemetry', () => {
  const newTelemetry = () => {
    const metrics = new Metrics({ namespace: AGENT_METRICS.namespace, serviceName: AGENT_METRICS.service });
    return { metrics, telemetry: new PowertoolsTelemetry(metrics, { warn: () => undefined }) };
  };

  it('writes a datapoint with dimensions at once as EMF in the DevopsAgent namespace', () => {
    // Prepare
    const { telemetry } = newTelemetry();

    // Act
    const emf = emfWrittenBy(() =>
      recordFinished(telemetry, 'deployed', {
        startedAt: '2026-11-28T10:00:00.000Z',
        finishedAt: '2026-11-28T11:05:00.000Z',
      }),
    );

    // Assess
    expect(emf).toEqual([
      expect.objectContaining({
        _aws: expect.objectContaining({
          CloudWatchMetrics: [
            {
              Namespace: 'DevopsAgent',
              Dimensions: [['service', 'Outcome']],
              Metrics: [{ Name: 'DeploymentsFinished', Unit: 'Count' }],
            },
          ],
        }),
        service: 'devops-agent',
        Outcome: 'deployed',
        DeploymentsFinished: 1,
      }),
      expect.objectContaining({
        _aws: expect.objectContaining({
          CloudWatchMetrics: [
            {
              Namespace: 'DevopsAgent',
              Dimensions: [['service', 'Outcome']],
              Metrics: [{ Name: 'DeploymentDuration', Unit: 'Milliseconds' }],
            },
          ],
        }),
        Outcome: 'deployed',
        DeploymentDuration: 3_900_000,
      }),
    ]);
  });

  it('buffers a datapoint without dimensions until the metrics are flushed', () => {
    // Prepare
    const { metrics, telemetry } = newTelemetry();

    // Act
    const whileCounting = emfWrittenBy(() => telemetry.count(AGENT_METRICS.names.rollbacks));
    const atFlush = emfWrittenBy(() => metrics.publishStoredMetrics());

    // Assess
    expect(whileCounting).toEqual([]);
    expect(atFlush).toEqual([
      expect.objectContaining({
        _aws: expect.objectContaining({
          CloudWatchMetrics: [
            {
              Namespace: 'DevopsAgent',
              Dimensions: [['service']],
              Metrics: [{ Name: 'Rollbacks', Unit: 'Count' }],
            },
          ],
        }),
        service: 'devops-agent',
        Rollbacks: 1,
      }),
    ]);
  });

  it('logs a metric it cannot emit instead of failing the core', () => {
    // Prepare
    const warnings: string[] = [];
    const telemetry = new PowertoolsTelemetry(new Metrics({ namespace: 'DevopsAgent' }), {
      warn: (message) => warnings.push(message),
    });

    // Act
    const emit = () => telemetry.duration(AGENT_METRICS.names.approvalWait, Number.NaN);

    // Assess
    expect(emit).not.toThrow();
    expect(warnings).toEqual(['metric not emitted']);
  });
});

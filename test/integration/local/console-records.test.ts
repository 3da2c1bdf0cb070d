import { startLocalServer } from '../../../local/server.js';
import { fakePorts, NO_CONSOLE } from '../../fixtures/ports.js';
import { aDeployment } from '../../fixtures/records.js';

const setup = async () => {
  const f = fakePorts();
  const server = await startLocalServer({
    ports: f.ports,
    webhookSecret: 'whsec-local',
    sources: NO_CONSOLE,
  });
  return { ...f, server };
};

describe('local console: deployment records', () => {
  let ctx: Awaited<ReturnType<typeof setup>>;
  beforeEach(async () => {
    ctx = await setup();
  });
  afterEach(async () => {
    await ctx.server.close();
  });

  it('lists the record documents and the DORA figures of the last 30 days in /api/state, and serves each record', async () => {
    // Prepare
    const finishedAt = new Date(ctx.clock.now().getTime() - 3_600_000).toISOString();
    await ctx.store.createDeployment(
      aDeployment({
        status: 'deployed',
        outcome: 'deployed',
        finishedAt,
        steps: [{ index: 0, name: 'Deploy', kind: 'command', status: 'succeeded', startedAt: finishedAt }],
        recordKey: 'records/t1-1.md',
      }),
    );
    await ctx.artifacts.put('records/t1-1.md', '# Deployment record: User Notifications\n');

    // Act
    const state = (await (await fetch(`${ctx.server.url}/api/state`)).json()) as {
      records: { deploymentId: string; recordKey: string }[];
      dora: { days: number; lines: string[] };
    };
    const document = await fetch(`${ctx.server.url}/artifacts/${state.records[0]?.recordKey}`);
    const page = await (await fetch(`${ctx.server.url}/`)).text();

    // Assess
    expect(state.records).toEqual([
      expect.objectContaining({ deploymentId: 't1-1', recordKey: 'records/t1-1.md' }),
    ]);
    expect(state.dora.days).toBe(30);
    expect(state.dora.lines).toContain(
      '- Change failure rate: 0% (0 of 1 deployment that started steps rolled back or failed)',
    );
    expect(await document.text()).toBe('# Deployment record: User Notifications\n');
    expect(page).toContain('<h2 id="records-heading">Deployment records</h2>');
    expect(page).toContain('drawRecords(state)');
  });
});

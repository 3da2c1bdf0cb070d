import { createPlan } from '../../../functions/create-plan/create-plan.js';
import { type DeploymentPlan, planHash } from '../../../functions/shared/plan.js';
import { CONFIG, RELEASE_FIELDS } from '../../fixtures/config.js';
import { fakePorts } from '../../fixtures/ports.js';
import { aDeployment, T1_STATE } from '../../fixtures/records.js';

const STATE = T1_STATE;

const setup = async () => {
  const f = fakePorts();
  f.tracker.add({ id: 't1', name: 'User Notifications', customFields: { ...RELEASE_FIELDS } });
  await f.store.createDeployment(
    aDeployment({
      status: 'checking',
      stage: 'CheckGates',
      gates: [{ name: 'CI green', passed: true, evidence: '1 checks passed on abc1234' }],
    }),
  );
  return f;
};

describe('createPlan', () => {
  it('stores the plan as Markdown and as JSON whose hash the approval binds to, and posts it', async () => {
    // Prepare
    const f = await setup();

    // Act
    const result = await createPlan(STATE, f.ports);

    // Assess
    const json = JSON.parse(f.artifacts.files.get('plans/t1-1.json') ?? '{}') as DeploymentPlan & {
      hash: string;
    };
    const { hash, ...plan } = json;
    expect(result).toEqual({ hash, key: 'plans/t1-1.md', risk: expect.any(String) });
    expect(planHash(plan)).toBe(hash);
    expect(f.artifacts.files.get('plans/t1-1.md')).toMatch(/^# Deployment Plan: User Notifications/);
    expect((await f.store.getDeployment('t1-1'))?.plan?.hash).toBe(hash);
    expect(f.tracker.comments.at(-1)?.text).toContain(`Plan hash: \`${hash.slice(0, 16)}\``);
  });

  it('shows what each step replaces, old → new, as the step runners read it', async () => {
    // Prepare
    const f = await setup();
    f.steps.currents = { 'Deploy backend': 'backend v1.4.2' };

    // Act
    await createPlan(STATE, f.ports);

    // Assess
    const plan = JSON.parse(f.artifacts.files.get('plans/t1-1.json') ?? '{}') as DeploymentPlan;
    expect(plan.steps.find((s) => s.name === 'Deploy backend')).toMatchObject({ current: 'backend v1.4.2' });
    expect(plan.steps.find((s) => s.name === 'Deploy frontend')?.current).toBeUndefined();
    expect(f.artifacts.files.get('plans/t1-1.md')).toContain('`deploy backend` (now: `backend v1.4.2`)');
  });

  it('keeps the risk reasons and each step with what it replaces and its timeout on the deployment', async () => {
    // Prepare
    const f = await setup();
    f.steps.currents = { 'Deploy backend': 'backend v1.4.2' };

    // Act
    await createPlan(STATE, f.ports);

    // Assess
    const plan = JSON.parse(f.artifacts.files.get('plans/t1-1.json') ?? '{}') as DeploymentPlan;
    const stored = (await f.store.getDeployment('t1-1'))?.plan;
    expect(stored?.reasons).toEqual(plan.risk.reasons);
    expect(stored?.steps?.map((s) => s.name)).toEqual(plan.steps.map((s) => s.name));
    expect(stored?.steps?.find((s) => s.name === 'Deploy backend')).toEqual({
      name: 'Deploy backend',
      kind: plan.steps.find((s) => s.name === 'Deploy backend')?.kind,
      action: plan.steps.find((s) => s.name === 'Deploy backend')?.action,
      current: 'backend v1.4.2',
      timeoutSeconds: expect.any(Number),
    });
  });

  it('says in the plan when a step runner cannot read what runs now, and still plans', async () => {
    // Prepare
    const f = await setup();
    f.steps.currents = { 'Deploy frontend': new Error('connection refused') };

    // Act
    await createPlan(STATE, f.ports);

    // Assess
    expect(f.artifacts.files.get('plans/t1-1.md')).toContain('(now: `unreadable (connection refused)`)');
  });

  it('raises the risk for a service that rolled back or alarmed lately, and says why', async () => {
    // Prepare
    const f = await setup();
    for (const [id, status, createdAt] of [
      ['t0-1', 'rolled-back', '2026-11-20T10:00:00.000Z'],
      ['t0-2', 'rolled-back', '2026-11-25T10:00:00.000Z'],
      ['t9-1', 'rolled-back', '2026-09-01T10:00:00.000Z'],
      ['t8-1', 'deployed', '2026-11-26T10:00:00.000Z'],
    ] as const)
      await f.store.createDeployment(aDeployment({ deploymentId: id, status, createdAt }));

    // Act
    const result = await createPlan(STATE, f.ports);

    // Assess
    expect(result.risk).toBe('high');
    const plan = JSON.parse(f.artifacts.files.get('plans/t1-1.json') ?? '{}') as DeploymentPlan;
    expect(plan.risk.reasons).toContain(
      '2 deployments of notifications rolled back in the last 30 days (t0-2, t0-1)',
    );
  });

  it('counts the alarms that fired in the last week, and a history it cannot read', async () => {
    // Prepare
    const config = CONFIG.replace(
      'monitoring: { report_interval: 15m }',
      'monitoring: { report_interval: 15m, alarms: [api-5xx, api-p99] }',
    );
    const f = fakePorts(config);
    f.tracker.add({ id: 't1', name: 'User Notifications', customFields: { ...RELEASE_FIELDS } });
    await f.store.createDeployment(aDeployment({ status: 'checking', stage: 'CheckGates' }));
    f.ports.alarms.firings = async () => [
      { alarm: 'api-5xx', at: '2026-11-27T10:00:00.000Z' },
      { alarm: 'api-5xx', at: '2026-11-26T10:00:00.000Z' },
      { alarm: 'api-p99', at: '2026-11-25T10:00:00.000Z' },
    ];
    const broken = fakePorts(config);
    broken.tracker.add({ id: 't1', name: 'User Notifications', customFields: { ...RELEASE_FIELDS } });
    await broken.store.createDeployment(aDeployment({ status: 'checking', stage: 'CheckGates' }));
    broken.ports.alarms.firings = async () => {
      throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
    };

    // Act
    await createPlan(STATE, f.ports);
    await createPlan(STATE, broken.ports);

    // Assess
    const reasons = (ports: typeof f) =>
      (JSON.parse(ports.artifacts.files.get('plans/t1-1.json') ?? '{}') as DeploymentPlan).risk.reasons;
    expect(reasons(f)).toContain('alarms fired in the last 7 days: api-5xx ×2, api-p99 ×1');
    expect(reasons(broken)).toContain('the alarm history could not be read (Throttling: Rate exceeded)');
  });
});

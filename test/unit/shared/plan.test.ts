import { parseConfig } from '../../../functions/shared/config/load.js';
import { settingsFor } from '../../../functions/shared/config/resolve.js';
import { renderPlan } from '../../../functions/shared/plan.js';
import { CONFIG } from '../../fixtures/config.js';

const config = parseConfig(CONFIG, 'test.yaml');
const [service] = config.services;
if (!service) throw new Error('no service');
const task = {
  id: 't1',
  name: 'User Notifications',
  status: 'Ready to Deploy',
  listId: 'L1',
  customFields: {},
};

describe('renderPlan', () => {
  it("has the sections of the seed's plan, in order", () => {
    // Act
    const { markdown } = renderPlan({
      task,
      service,
      settings: settingsFor(config, service),
      gates: [],
      deploymentId: 't1-1',
    });

    // Assess
    const headings = markdown.split('\n').filter((l) => l.startsWith('#'));
    expect(headings).toEqual([
      '# Deployment Plan: User Notifications',
      '## Pre-Deploy Checklist',
      '## Deployment Steps',
      '## Verification Plan',
      '## Monitoring Plan',
      '## Rollback Plan',
      '## Risk Assessment',
      '## Success Criteria',
    ]);
    expect(markdown).toContain('Monitor for 30 min after the deploy, with a status report every 15 min.');
    expect(markdown).toContain('1. **Deploy frontend**: run `deploy frontend {{previous}}`');
    expect(markdown).toContain('3. **Database migration**: keep database');
  });

  it('shows the values steps will run with and keeps {{previous}} for the rollback', () => {
    // Prepare
    const custom = parseConfig(
      CONFIG.replace('run: [deploy, backend]', 'run: [deploy, backend, "{{release}}"]'),
      't.yaml',
    );
    const s = custom.services[0];
    if (!s) throw new Error('no service');

    // Act
    const { markdown } = renderPlan({
      task,
      service: s,
      settings: settingsFor(custom, s),
      gates: [],
      deploymentId: 't1-1',
      vars: { release: 'v2' },
    });

    // Assess
    expect(markdown).toContain('2. **Deploy backend** (command): `deploy backend v2`');
    expect(markdown).toContain('run `deploy backend {{previous}}`');
  });

  it('rates the risk low when every step can be undone, and says why not otherwise', () => {
    // Prepare
    const settings = settingsFor(config, service);
    const noUndo = parseConfig(
      CONFIG.replace(', record: [current], undo: [deploy, frontend, "{{previous}}"]', ''),
      't.yaml',
    );
    const risky = noUndo.services[0];
    if (!risky) throw new Error('no service');

    // Act
    const low = renderPlan({ task, service, settings, gates: [], deploymentId: 'd' });
    const medium = renderPlan({ task, service: risky, settings, gates: [], deploymentId: 'd' });

    // Assess
    expect(low.risk).toBe('low');
    expect(medium.risk).toBe('medium');
    expect(medium.markdown).toContain('- "Deploy frontend" has no undo command');
  });

  it('rates an irreversible migration high and says there is no automatic database rollback', () => {
    // Prepare
    const settings = settingsFor(config, service);
    const migrations = [
      {
        path: 'db/migrations/001_add_prefs.sql',
        kind: 'additive' as const,
        irreversible: false,
        reasons: [],
      },
      {
        path: 'db/migrations/002_drop_legacy.sql',
        kind: 'destructive' as const,
        irreversible: true,
        reasons: ['DROP COLUMN users.legacy_flags'],
      },
    ];

    // Act
    const { risk, markdown, plan } = renderPlan({
      task,
      service,
      settings,
      gates: [],
      deploymentId: 'd',
      migrations,
    });

    // Assess
    expect(risk).toBe('high');
    expect(markdown).toContain(
      '3. **Database migration**: no automatic database rollback: db/migrations/002_drop_legacy.sql (DROP COLUMN users.legacy_flags) cannot be undone',
    );
    expect(markdown).toContain(
      '- `db/migrations/002_drop_legacy.sql`: destructive, irreversible (DROP COLUMN users.legacy_flags)',
    );
    expect(plan.risk.reasons).toContain(
      'migration db/migrations/002_drop_legacy.sql is irreversible: no automatic database rollback',
    );
  });

  it('marks a gate that could not be evaluated with ? and an overridden gate with its reason, and rates an override high', () => {
    // Prepare
    const settings = settingsFor(config, service);
    const gates = [
      {
        name: 'CI green',
        passed: false,
        evidence: 'could not be evaluated',
        error: 'TransientDependencyError: GitHub 502',
      },
      {
        name: 'No alarms firing',
        passed: true,
        evidence: 'firing: api-5xx; overridden for a hot fix',
        override: 'INC-42 fix',
      },
    ];

    // Act
    const { markdown, risk } = renderPlan({ task, service, settings, gates, deploymentId: 'd' });

    // Assess
    expect(markdown).toContain(
      '- [?] CI green: could not be evaluated (TransientDependencyError: GitHub 502)',
    );
    expect(markdown).toContain(
      '- [x] No alarms firing: firing: api-5xx; overridden for a hot fix (override: INC-42 fix)',
    );
    expect(risk).toBe('high');
  });

  it('hashes the plan as canonical JSON: the same plan the same hash, any change a new one', () => {
    // Prepare
    const settings = settingsFor(config, service);
    const input = { task, service, settings, gates: [], deploymentId: 'd' };

    // Act
    const first = renderPlan(input);
    const again = renderPlan({ ...input });
    const renamed = renderPlan({ ...input, task: { ...task, name: 'User Notifications v2' } });

    // Assess
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(again.hash).toBe(first.hash);
    expect(renamed.hash).not.toBe(first.hash);
  });
});

import { fileURLToPath } from 'node:url';
import { loadConfigFile } from '../../../functions/shared/config/load.js';
import { settingsFor } from '../../../functions/shared/config/resolve.js';
import { renderPlan } from '../../../functions/shared/plan.js';

const FILE = fileURLToPath(
  new URL('../../../examples/seed-notifications/devops-agent.yaml', import.meta.url),
);

describe("the seed's notifications release config", () => {
  it("loads and plans the seed's steps and rollback", () => {
    // Prepare
    const config = loadConfigFile(FILE);
    const [service] = config.services;
    if (!service) throw new Error('no service');
    const task = {
      id: 'abc',
      name: 'User Notifications',
      status: 'Ready to Deploy',
      listId: '901234567',
      customFields: {},
    };

    // Act
    const { markdown } = renderPlan({
      task,
      service,
      settings: settingsFor(config, service),
      gates: [],
      deploymentId: 'abc-1',
      vars: { release: 'v2.4.0' },
    });

    // Assess
    expect(service.steps.map((s) => s.kind)).toEqual([
      'migration',
      'kubernetes',
      's3-sync',
      'cloudfront-invalidation',
      'kubernetes',
    ]);
    expect(settingsFor(config, service)).toMatchObject({
      monitoringPeriodSeconds: 3600,
      reportIntervalSeconds: 900,
    });
    expect(markdown).toContain(
      'rollout of deployment/api in notifications to 123456789012.dkr.ecr.eu-west-1.amazonaws.com/notifications-api:v2.4.0 (running image unknown)',
    );
    expect(markdown).toContain('**Database migration**: keep database');
  });

  it("plans the seed's release with every section of the seed's example plan", () => {
    // Prepare: the evidence of a release that passed every gate, with one additive migration
    const config = loadConfigFile(FILE);
    const [service] = config.services;
    if (!service) throw new Error('no service');
    const gates = [
      { name: 'Runtime can run every step', passed: true, evidence: '5 steps, 4 checks' },
      { name: 'Outside freeze windows', passed: true, evidence: '1 window, none active' },
      {
        name: 'PR merged',
        passed: true,
        evidence: 'https://github.com/acme/notifications/pull/482 merged into main (protected)',
      },
      { name: 'CI green', passed: true, evidence: '7 checks passed on 4f2a9c1' },
      { name: 'Migrations safe', passed: true, evidence: '20261127_create_notifications.sql additive' },
      { name: 'Security Review approved', passed: true, evidence: 'Security Review: Approved' },
      { name: 'QA approved', passed: true, evidence: 'QA: Approved' },
      { name: 'No alarms firing', passed: true, evidence: 'all triggers within targets' },
    ];
    const migrations = [
      {
        path: 'db/migrations/20261127_create_notifications.sql',
        kind: 'additive' as const,
        irreversible: false,
        reasons: ['CREATE TABLE notifications', 'CREATE INDEX notifications_user_id_idx'],
      },
    ];

    // Act
    const { markdown, risk } = renderPlan({
      task: {
        id: '86b1xk7qz',
        name: 'User Notifications',
        status: 'Ready to Deploy',
        listId: '901234567',
        customFields: {},
      },
      service,
      settings: settingsFor(config, service),
      gates,
      deploymentId: '86b1xk7qz-1',
      vars: { release: 'v2.4.0' },
      migrations,
      current: {
        'Deploy backend': '123456789012.dkr.ecr.eu-west-1.amazonaws.com/notifications-api:v2.3.1',
        'Deploy WebSocket server': '123456789012.dkr.ecr.eu-west-1.amazonaws.com/notifications-ws:v2.3.1',
      },
    });

    // Assess: the seed's checklist, its four components, its verification, rollback and monitoring
    for (const item of [
      'CI green',
      'Security Review approved',
      'QA approved',
      'PR merged',
      'Migrations safe',
      'Rollback plan ready',
      'Monitoring configured',
    ])
      expect(markdown).toMatch(new RegExp(`- \\[x\\] ${item}`));
    for (const step of ['Database migration', 'Deploy backend', 'Deploy frontend', 'Deploy WebSocket server'])
      expect(markdown).toContain(`**${step}**`);
    expect(markdown).toContain('SQL `SELECT COUNT(*) FROM notifications`');
    expect(markdown).toContain('**Database migration**: keep database');
    expect(markdown).toContain(
      'rollout of deployment/api in notifications: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/notifications-api:v2.3.1 → 123456789012.dkr.ecr.eu-west-1.amazonaws.com/notifications-api:v2.4.0',
    );
    expect(risk).toBe('medium');
    expect(markdown).toMatchSnapshot();
  });
});

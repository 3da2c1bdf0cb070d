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
      'rollout of deployment/api in notifications to 123456789012.dkr.ecr.eu-west-1.amazonaws.com/notifications-api:v2.4.0',
    );
    expect(markdown).toContain('**Database migration**: keep database');
  });
});

import { checkGates } from '../../../functions/check-gates/check-gates.js';
import { CloudFrontInvalidationStepRunner } from '../../../functions/shared/adapters/cloudfront-invalidation-step-runner.js';
import { S3SyncStepRunner } from '../../../functions/shared/adapters/s3-sync-step-runner.js';
import { localRunners } from '../../../local/local-ports.js';
import { RELEASE_FIELDS } from '../../fixtures/config.js';
import { fakePorts } from '../../fixtures/ports.js';
import { aDeployment, T1_STATE } from '../../fixtures/records.js';

const SITE_CONFIG = `
services:
  - name: notifications
    approvers: [{ email: lead@example.com }]
    tracker: { list_id: L1 }
    gates: { ci: false, pr_merged: false, protected_branch: false, sign_off: [], alarms_clear: false }
    steps:
      - { name: Deploy frontend, kind: s3-sync, source: dist, bucket: app-bucket }
      - { name: Invalidate CDN, kind: cloudfront-invalidation, distribution_id: E2EXAMPLE12345 }
`;

describe('localRunners', () => {
  it('registers no s3-sync or cloudfront-invalidation runner without their endpoints', () => {
    // Act
    const { steps } = localRunners('/srv/app', {});

    // Assess
    expect(Object.keys(steps).sort()).toEqual(['command', 'migration']);
  });

  it('registers them for an S3-compatible URL and for aws', () => {
    // Act
    const { steps } = localRunners('/srv/app', {
      DEVOPS_AGENT_S3_ENDPOINT: 'http://127.0.0.1:9000',
      DEVOPS_AGENT_CLOUDFRONT_ENDPOINT: 'aws',
      AWS_ACCESS_KEY_ID: 'minio',
      AWS_SECRET_ACCESS_KEY: 'minio-secret',
    });

    // Assess
    expect(steps['s3-sync']).toBeInstanceOf(S3SyncStepRunner);
    expect(steps['cloudfront-invalidation']).toBeInstanceOf(CloudFrontInvalidationStepRunner);
  });

  it('refuses an endpoint that is neither aws nor an http(s) URL', () => {
    // Act
    const build = () => localRunners('/srv/app', { DEVOPS_AGENT_S3_ENDPOINT: 'minio:9000' });

    // Assess
    expect(build).toThrow(
      'environment: DEVOPS_AGENT_S3_ENDPOINT: expected aws or the http(s) URL of a compatible endpoint',
    );
  });

  it('makes the runtime gate name the site steps it cannot run, and pass once the endpoints are set', async () => {
    // Prepare
    const without = fakePorts(SITE_CONFIG);
    const withEndpoints = fakePorts(SITE_CONFIG);
    for (const f of [without, withEndpoints]) {
      f.tracker.add({ id: 't1', name: 'User Notifications', customFields: { ...RELEASE_FIELDS } });
      await f.store.createDeployment(aDeployment({ status: 'checking', stage: 'AcquireLock' }));
    }
    without.ports.steps = localRunners('/srv/app', {}).steps;
    withEndpoints.ports.steps = localRunners('/srv/app', {
      DEVOPS_AGENT_S3_ENDPOINT: 'http://127.0.0.1:4569',
      DEVOPS_AGENT_CLOUDFRONT_ENDPOINT: 'aws',
    }).steps;

    // Act
    const blocked = await checkGates(T1_STATE, without.ports);
    const runnable = await checkGates(T1_STATE, withEndpoints.ports);

    // Assess
    expect(blocked.failed).toEqual(['Runtime can run every step']);
    const gate = (await without.store.getDeployment('t1-1'))?.gates?.[0];
    expect(gate?.reason).toBe(
      'this runtime has no runner for step "Deploy frontend" (s3-sync), step "Invalidate CDN" (cloudfront-invalidation); use a supported kind or run where it is available',
    );
    expect(runnable.failed).toEqual([]);
  });
});

import {
  CloudFrontClient,
  CreateInvalidationCommand,
  GetInvalidationCommand,
  TooManyInvalidationsInProgress,
} from '@aws-sdk/client-cloudfront';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { CloudFrontInvalidationStepRunner } from '../../../functions/shared/adapters/cloudfront-invalidation-step-runner.js';
import { CloudFrontInvalidationStepSchema, type Step } from '../../../functions/shared/config/schema.js';
import { StepFailedError, StepKindUnsupportedError } from '../../../functions/shared/errors.js';
import type { StepContext } from '../../../functions/shared/ports/step-runner.js';

const step = (fields: Record<string, unknown> = {}): Step =>
  CloudFrontInvalidationStepSchema.parse({
    name: 'Invalidate CDN',
    kind: 'cloudfront-invalidation',
    distribution_id: 'E2EXAMPLE12345',
    paths: ['/index.html', '/*'],
    ...fields,
  });

const context: StepContext = {
  deploymentId: 'abc-1',
  service: 'notifications',
  environment: 'production',
  vars: { deploymentId: 'abc-1' },
};

const invalidation = (status: string) => ({ Invalidation: { Id: 'I2J0EXAMPLE', Status: status } as never });

const throttled = () =>
  Object.assign(new Error('Rate exceeded'), {
    name: 'Throttling',
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
  });

describe('CloudFrontInvalidationStepRunner', () => {
  const cloudfront = mockClient(CloudFrontClient);
  let now: number;
  let slept: number[];

  /** A clock that moves only when the runner sleeps, so the time bound is exact and the test instant. */
  const runner = (pollIntervalMs = 10_000) =>
    new CloudFrontInvalidationStepRunner({
      client: new CloudFrontClient({ region: 'us-east-1' }),
      pollIntervalMs,
      now: () => now,
      sleep: async (ms) => {
        slept.push(ms);
        now += ms;
      },
    });

  beforeEach(() => {
    now = Date.parse('2026-11-27T10:00:00Z');
    slept = [];
  });

  afterEach(() => {
    cloudfront.reset();
  });

  it('creates the invalidation and waits until CloudFront says Completed', async () => {
    // Prepare
    cloudfront.on(CreateInvalidationCommand).resolves(invalidation('InProgress'));
    cloudfront
      .on(GetInvalidationCommand)
      .resolvesOnce(invalidation('InProgress'))
      .resolvesOnce(invalidation('InProgress'))
      .resolves(invalidation('Completed'));

    // Act
    const outcome = await runner().run(step(), context);

    // Assess
    expect(cloudfront).toHaveReceivedCommandWith(CreateInvalidationCommand, {
      DistributionId: 'E2EXAMPLE12345',
      InvalidationBatch: {
        CallerReference: 'abc-1/Invalidate CDN',
        Paths: { Quantity: 2, Items: ['/index.html', '/*'] },
      },
    });
    expect(cloudfront).toHaveReceivedCommandTimes(GetInvalidationCommand, 3);
    expect(cloudfront).toHaveReceivedCommandWith(GetInvalidationCommand, {
      DistributionId: 'E2EXAMPLE12345',
      Id: 'I2J0EXAMPLE',
    });
    expect(slept).toEqual([10_000, 10_000, 10_000]);
    expect(outcome).toEqual({
      summary: 'invalidation I2J0EXAMPLE of /index.html, /* on E2EXAMPLE12345 completed in 30 s',
      undo: { distribution_id: 'E2EXAMPLE12345', invalidation_id: 'I2J0EXAMPLE' },
    });
  });

  it('does not wait for an invalidation CloudFront answers as already Completed', async () => {
    // Prepare
    cloudfront.on(CreateInvalidationCommand).resolves(invalidation('Completed'));

    // Act
    await runner().run(step(), context);

    // Assess
    expect(cloudfront).toHaveReceivedCommandTimes(GetInvalidationCommand, 0);
    expect(slept).toEqual([]);
  });

  it('fails within the step timeout naming the invalidation still InProgress', async () => {
    // Prepare
    cloudfront.on(CreateInvalidationCommand).resolves(invalidation('InProgress'));
    cloudfront.on(GetInvalidationCommand).resolves(invalidation('InProgress'));

    // Act
    const run = runner().run(step({ timeout: '45s' }), context);

    // Assess
    await expect(run).rejects.toThrow(StepFailedError);
    await expect(run).rejects.toThrow(
      /^invalidation I2J0EXAMPLE on distribution E2EXAMPLE12345 is still InProgress after 45 s/,
    );
    expect(slept.reduce((a, b) => a + b, 0)).toBe(45_000);
    expect(slept.at(-1)).toBe(5_000);
  });

  it('goes on after throttled and busy answers, creating and reading, and succeeds', async () => {
    // Prepare
    cloudfront
      .on(CreateInvalidationCommand)
      .rejectsOnce(throttled())
      .rejectsOnce(new TooManyInvalidationsInProgress({ message: 'too many', $metadata: {} }))
      .resolves(invalidation('InProgress'));
    cloudfront
      .on(GetInvalidationCommand)
      .rejectsOnce(throttled())
      .rejectsOnce(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))
      .resolves(invalidation('Completed'));

    // Act
    const outcome = await runner().run(step(), context);

    // Assess
    expect(outcome.summary).toMatch(/^invalidation I2J0EXAMPLE .* completed in \d+ s$/);
    expect(cloudfront).toHaveReceivedCommandTimes(CreateInvalidationCommand, 3);
    expect(cloudfront).toHaveReceivedCommandTimes(GetInvalidationCommand, 3);
  });

  it('fails at once on an error that asking again cannot fix', async () => {
    // Prepare
    cloudfront.on(CreateInvalidationCommand).rejects(
      Object.assign(new Error('The specified distribution does not exist.'), {
        name: 'NoSuchDistribution',
        $metadata: { httpStatusCode: 404 },
      }),
    );

    // Act
    const run = runner().run(step(), context);

    // Assess
    await expect(run).rejects.toThrow(
      'cannot create an invalidation of /index.html, /* on distribution E2EXAMPLE12345: NoSuchDistribution (HTTP 404): The specified distribution does not exist.',
    );
    expect(cloudfront).toHaveReceivedCommandTimes(CreateInvalidationCommand, 1);
  });

  it('gives up creating when throttling outlasts the step timeout', async () => {
    // Prepare
    cloudfront.on(CreateInvalidationCommand).rejects(throttled());

    // Act
    const run = runner().run(step({ timeout: '20s' }), context);

    // Assess
    await expect(run).rejects.toThrow(
      /still failing after \d+ attempts, 20 s bound\): Throttling \(HTTP 400\)/,
    );
    expect(slept.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(20_000);
  });

  it('sends the same CallerReference when the step runs again, so CloudFront returns the same invalidation', async () => {
    // Prepare
    cloudfront.on(CreateInvalidationCommand).resolves(invalidation('Completed'));
    const invalidations = runner();

    // Act
    const first = await invalidations.run(step(), context);
    const again = await invalidations.run(step(), context);
    const other = await invalidations.run(step({ name: 'Invalidate API docs' }), context);

    // Assess
    const references = cloudfront
      .commandCalls(CreateInvalidationCommand)
      .map((call) => call.args[0].input.InvalidationBatch?.CallerReference);
    expect(references).toEqual(['abc-1/Invalidate CDN', 'abc-1/Invalidate CDN', 'abc-1/Invalidate API docs']);
    expect(again.undo).toEqual(first.undo);
    expect(other.summary).toContain('I2J0EXAMPLE');
  });

  it('sends each path once', async () => {
    // Prepare
    cloudfront.on(CreateInvalidationCommand).resolves(invalidation('Completed'));

    // Act
    await runner().run(step({ paths: ['/*', '/index.html', '/*'] }), context);

    // Assess
    expect(cloudfront).toHaveReceivedCommandWith(CreateInvalidationCommand, {
      InvalidationBatch: {
        CallerReference: 'abc-1/Invalidate CDN',
        Paths: { Quantity: 2, Items: ['/*', '/index.html'] },
      },
    });
  });

  it('keeps the invalidation on undo and says why', async () => {
    // Act
    const undone = await runner().undo(step());

    // Assess
    expect(undone.kept).toBe(true);
    expect(undone.summary).toMatch(/^nothing to undo: .*reverse order.*invalidate_after_restore/);
    expect(cloudfront.calls()).toHaveLength(0);
  });

  it('rejects a step of another kind', async () => {
    // Prepare
    const other = { name: 'Sync', kind: 's3-sync', source: 'dist', bucket: 'site', prefix: '' } as Step;

    // Act
    const run = runner().run(other, context);

    // Assess
    await expect(run).rejects.toThrow(StepKindUnsupportedError);
  });
});

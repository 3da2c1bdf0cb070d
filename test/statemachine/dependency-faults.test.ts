import { TransientDependencyError } from '../../functions/shared/errors.js';
import { CONFIG } from '../fixtures/config.js';
import { createHarness } from './harness.js';

type Harness = ReturnType<typeof createHarness>;
type AsyncMethod = (...args: never[]) => Promise<unknown>;

/**
 * Makes a port's method fail as a dependency answering 503 would after the adapter's own retries: with
 * TransientDependencyError, `times` times (Infinity: for good), from its `from`-th matching call on. The
 * other calls reach the fake. The count proves the fault was hit, so no test passes by missing it.
 */
const faulty = <T extends object>(
  target: T,
  method: { [K in keyof T]: T[K] extends AsyncMethod ? K : never }[keyof T],
  fault: { message: string; times: number; from?: number; when?: (...args: unknown[]) => boolean },
) => {
  const original = (target[method] as AsyncMethod).bind(target) as (...args: unknown[]) => Promise<unknown>;
  const counts = { matched: 0, failed: 0 };
  Object.assign(target, {
    [method]: async (...args: unknown[]) => {
      if (!fault.when || fault.when(...args)) {
        counts.matched++;
        if (counts.matched >= (fault.from ?? 1) && counts.failed < fault.times) {
          counts.failed++;
          throw new TransientDependencyError(fault.message);
        }
      }
      return original(...args);
    },
  });
  return counts;
};

/** The workflow's Retry on TransientDependencyError: the first try and 5 more (MaxAttempts 5). */
const TRIES = 6;

/** Each dependency a stage reads, failing from the call where that stage first uses it. */
const STAGES: {
  stage: string;
  inject: (h: Harness, times: number) => { failed: number };
  /** where the deployment ends when the dependency stays down */
  end: { state: string; error: string };
  /** exactly how often the stage meets the fault (default: at least every try of the workflow's Retry) */
  tries?: number;
  /** the lock is kept only when the rollback could not be verified: a person must look first */
  lock?: 'released' | 'kept';
  /** whether a single failure is retried and the deployment still deploys (default true) */
  recovers?: boolean;
  /** what the last ClickUp comment (the report) says, when the report itself could be posted */
  report?: RegExp;
  /** the release went live before the dependency failed: the record says deployed, with the report error */
  live?: boolean;
}[] = [
  {
    stage: 'the gates reading CI on GitHub',
    inject: (h, times) =>
      faulty(h.sourceControl, 'getCommitStatus', {
        message: 'GitHub could not answer for check runs of abc1234def5678 (503 Service Unavailable)',
        times,
      }),
    end: { state: 'Blocked', error: 'GatesNotMet' },
    report: /503 Service Unavailable/,
  },
  {
    stage: "a step's Kubernetes call",
    inject: (h, times) =>
      faulty(h.steps, 'run', {
        message:
          'Kubernetes API: patch deployment notifications/api failed 4 times, last with 503 ServiceUnavailable',
        times,
        when: (step) => (step as { name: string }).name === 'Deploy backend',
      }),
    end: { state: 'RolledBack', error: 'DeploymentRolledBack' },
    report: /Kubernetes API: patch deployment notifications\/api failed 4 times/,
  },
  {
    stage: 'the verification check',
    inject: (h, times) =>
      faulty(h.checks, 'run', { message: 'API health: connection reset (ECONNRESET)', times }),
    // the checks also verify the rollback, and cannot while the check keeps failing: a person must look
    end: { state: 'RollbackFailed', error: 'RollbackFailed' },
    report: /^@human 🚨 ROLLBACK FAILED/,
    lock: 'kept',
  },
  {
    stage: "the bake's CloudWatch alarm read",
    // the gates read the alarms once before the deploy; the bake's reads come after
    inject: (h, times) =>
      faulty(h.alarms, 'check', {
        message: 'CloudWatch DescribeAlarms: ThrottlingException (HTTP 400): Rate exceeded',
        times,
        from: 2,
      }),
    end: { state: 'RolledBack', error: 'DeploymentRolledBack' },
    report:
      /Error: TransientDependencyError: CloudWatch DescribeAlarms: ThrottlingException[\s\S]*Automatic rollback completed successfully/,
    // an unreadable rollback trigger fails the bake at once (fail safe, `unreadable_alarms: breaching`)
    tries: 1,
    recovers: false,
  },
  {
    stage: 'the store write of the verification stage (DynamoDB)',
    inject: (h, times) =>
      faulty(h.store, 'updateDeployment', {
        message: 'DynamoDB UpdateItem: ProvisionedThroughputExceededException (HTTP 400)',
        times,
        when: (_id, patch) => (patch as { stage?: string }).stage === 'Verify',
      }),
    end: { state: 'RolledBack', error: 'DeploymentRolledBack' },
    report:
      /Error: TransientDependencyError: DynamoDB UpdateItem: ProvisionedThroughputExceededException[\s\S]*Automatic rollback completed successfully/,
  },
  {
    stage: 'the final report to ClickUp (the status move to Deployed)',
    inject: (h, times) =>
      faulty(h.tracker, 'setStatus', {
        message: 'ClickUp PUT /v2/task/t1 answered 503; gave up after 4 attempts',
        times,
        when: (_task, status) => status === 'Deployed',
      }),
    end: { state: 'Failed', error: 'DeploymentFailed' },
    // the bake passed, so the release is live: the record says so, with the report that failed
    live: true,
  },
  {
    stage: 'the deployment record upload to S3',
    inject: (h, times) =>
      faulty(h.artifacts, 'put', {
        message: 'S3 PutObject: SlowDown (HTTP 503): Please reduce your request rate',
        times,
      }),
    end: { state: 'Failed', error: 'DeploymentFailed' },
  },
];

describe('a dependency failing at each stage of the workflow', () => {
  it.each(STAGES.map((s) => [s.stage, s] as const))(
    'ends a deployment whose dependency stays down at %s in its failure state, never as Deployed',
    async (_stage, { inject, end, report, tries, lock, live }) => {
      // Prepare
      const h = createHarness();
      const fault = inject(h, Number.POSITIVE_INFINITY);

      // Act
      const { execution, record, comments, deploymentId } = await h.run();

      // Assess
      if (tries === undefined) expect(fault.failed).toBeGreaterThanOrEqual(TRIES);
      else expect(fault.failed).toBe(tries);
      expect(execution).toMatchObject({ status: 'FAILED', currentState: end.state, error: end.error });
      if (live) {
        expect(record).toMatchObject({ status: 'deployed', outcome: 'deployed' });
        expect(record.reportError?.message).toMatch(/ClickUp PUT \/v2\/task\/t1 answered 503/);
      } else expect(record.status).not.toBe('deployed');
      expect(h.tracker.statusMoves).not.toContain('t1: Deployed');
      if (report) expect(comments.at(-1)).toMatch(report);
      // released, the next deployment of the service is not stuck behind this one
      expect(h.store.locks.get('notifications/production')?.owner).toBe(lock === 'kept' ? deploymentId : '');
    },
  );

  it.each(STAGES.filter((s) => s.recovers !== false).map((s) => [s.stage, s] as const))(
    'retries a dependency that fails once at %s and deploys',
    async (_stage, { inject }) => {
      // Prepare
      const h = createHarness();
      const fault = inject(h, 1);

      // Act
      const { execution, record, comments } = await h.run();

      // Assess
      expect(fault.failed).toBe(1);
      expect(execution).toMatchObject({ status: 'SUCCEEDED', currentState: 'Deployed' });
      expect(record).toMatchObject({ status: 'deployed', outcome: 'deployed' });
      expect(h.tracker.statusMoves.at(-1)).toBe('t1: Deployed');
      expect(comments.at(-1)).toMatch(/^✅ DEPLOYED TO PRODUCTION/);
    },
  );
});

describe('a report to ClickUp that keeps failing', () => {
  it('ends a rolled-back deployment Failed when its failure report cannot be posted, the rollback done and the lock released', async () => {
    // Prepare
    const h = createHarness();
    h.steps.failOn = 'Deploy frontend';
    const fault = faulty(h.tracker, 'comment', {
      message: 'ClickUp POST /v2/task/t1/comment answered 503; gave up after 4 attempts',
      times: Number.POSITIVE_INFINITY,
      when: (_task, text) => String(text).startsWith('❌ DEPLOYMENT FAILED'),
    });

    // Act
    const { execution, record } = await h.run();

    // Assess
    expect(fault.failed).toBeGreaterThanOrEqual(TRIES);
    expect(execution).toMatchObject({ status: 'FAILED', currentState: 'Failed', error: 'DeploymentFailed' });
    expect(execution.cause).toMatch(/its report failed/);
    expect(h.steps.undone).toEqual(['Deploy frontend', 'Deploy backend']);
    expect(record).toMatchObject({ status: 'rolled-back', outcome: 'rolled-back' });
    expect(record.reportError?.message).toMatch(/ClickUp POST \/v2\/task\/t1\/comment answered 503/);
    expect(h.tracker.statusMoves).not.toContain('t1: Deployed');
    expect(h.store.locks.get('notifications/production')?.owner).toBe('');
  });

  it('ends the execution Failed, not Deployed, when the success summary cannot be posted after the release went live', async () => {
    // Prepare
    const h = createHarness();
    const fault = faulty(h.tracker, 'comment', {
      message: 'ClickUp POST /v2/task/t1/comment answered 502; gave up after 4 attempts',
      times: Number.POSITIVE_INFINITY,
      when: (_task, text) => String(text).startsWith('✅ DEPLOYED'),
    });

    // Act
    const { execution, record, comments } = await h.run();

    // Assess
    expect(fault.failed).toBeGreaterThanOrEqual(TRIES);
    expect(execution).toMatchObject({ status: 'FAILED', currentState: 'Failed', error: 'DeploymentFailed' });
    expect(execution.cause).toMatch(/its report failed/);
    // the release is live and nothing was rolled back: the record says so rather than hiding it
    expect(record).toMatchObject({ status: 'deployed', outcome: 'deployed' });
    expect(record.reportError?.message).toMatch(/ClickUp POST \/v2\/task\/t1\/comment answered 502/);
    expect(h.steps.undone).toEqual([]);
    expect(comments.some((c) => c.startsWith('✅ DEPLOYED'))).toBe(false);
    expect(h.store.locks.get('notifications/production')?.owner).toBe('');
  });
});

describe("the bake's alarm source failing when unreadable_alarms is notBreaching", () => {
  it('bakes on through an alarm read that keeps failing, deploys and says in the status report that the triggers could not be read', async () => {
    // Prepare
    const h = createHarness({
      config: CONFIG.replace(
        'monitoring: { report_interval: 15m }',
        'monitoring: { report_interval: 15m, unreadable_alarms: notBreaching }',
      ),
    });
    const fault = faulty(h.alarms, 'check', {
      message: 'CloudWatch DescribeAlarms: ThrottlingException (HTTP 400): Rate exceeded',
      times: Number.POSITIVE_INFINITY,
      from: 2,
    });

    // Act
    const { execution, comments } = await h.run();

    // Assess
    expect(fault.failed).toBeGreaterThan(0);
    expect(execution).toMatchObject({ status: 'SUCCEEDED', currentState: 'Deployed' });
    const reports = comments.filter((c) => c.startsWith('📊 Deployment Status Update'));
    expect(reports.length).toBeGreaterThan(0);
    for (const report of reports)
      expect(report).toContain(
        '⚠️ cannot read the rollback triggers (CloudWatch DescribeAlarms: ThrottlingException (HTTP 400): Rate exceeded); baking on (unreadable_alarms: notBreaching)',
      );
  });
});

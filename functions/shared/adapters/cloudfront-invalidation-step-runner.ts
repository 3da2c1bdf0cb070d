import {
  type CloudFrontClient,
  CreateInvalidationCommand,
  GetInvalidationCommand,
} from '@aws-sdk/client-cloudfront';
import type { Step } from '../config/schema.js';
import { StepFailedError, StepKindUnsupportedError } from '../errors.js';
import type { StepContext, StepOutcome, StepRunner } from '../ports/step-runner.js';
import { describeAwsError, isTransientAwsError } from './aws-transient.js';

type InvalidationStep = Extract<Step, { kind: 'cloudfront-invalidation' }>;

export interface InvalidationRequest {
  distributionId: string;
  paths: string[];
  /** CloudFront answers a second request with the same reference (and paths) with the first invalidation */
  callerReference: string;
  /** how long to wait for the invalidation to complete, in seconds */
  timeoutSeconds: number;
}

export interface InvalidationResult {
  id: string;
  /** how long it took, creation and waiting */
  seconds: number;
}

/** Creates a CloudFront invalidation and waits for it to complete; the s3-sync restore uses it too. */
export interface Invalidator {
  invalidate(request: InvalidationRequest): Promise<InvalidationResult>;
}

export interface CloudFrontInvalidationStepRunnerOptions {
  client: CloudFrontClient;
  /** between two GetInvalidation calls (ms); default 10 s (invalidations take one to a few minutes) */
  pollIntervalMs?: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

/** CloudFront's limit on paths in progress per distribution: it clears as earlier invalidations complete. */
const isBusy = (error: unknown): boolean =>
  error instanceof Error && error.name === 'TooManyInvalidationsInProgress';

/** The CallerReference of a step's invalidation: a retried Lambda gets the invalidation it already created. */
export const callerReference = (deploymentId: string, stepName: string): string =>
  `${deploymentId}/${stepName}`;

/**
 * Runs `cloudfront-invalidation` steps: CreateInvalidation with the step's paths, then GetInvalidation
 * every `pollIntervalMs` until CloudFront says `Completed`, within the step's `timeout`. The CallerReference
 * is the deployment id and the step name, so running the step again (a retried Lambda) finds the same
 * invalidation instead of paying for a second one. Throttling, 5xx answers and too many invalidations in
 * progress are tried again until the bound: creating is safe to repeat for that reason, and a wait loop is
 * needed anyway.
 *
 * @example
 * const runner = new CloudFrontInvalidationStepRunner({ client: new CloudFrontClient({ maxAttempts: 5 }) });
 */
export class CloudFrontInvalidationStepRunner implements StepRunner, Invalidator {
  private readonly pollIntervalMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly now: () => number;

  constructor(private readonly options: CloudFrontInvalidationStepRunnerOptions) {
    this.pollIntervalMs = options.pollIntervalMs ?? 10_000;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.now = options.now ?? Date.now;
  }

  async run(step: Step, context: StepContext): Promise<StepOutcome> {
    const invalidation = this.invalidationStep(step);
    const paths = [...new Set(invalidation.paths)];
    const { id, seconds: took } = await this.invalidate({
      distributionId: invalidation.distribution_id,
      paths,
      callerReference: callerReference(context.deploymentId, invalidation.name),
      timeoutSeconds: invalidation.timeout,
    });
    return {
      summary: `invalidation ${id} of ${paths.join(', ')} on ${invalidation.distribution_id} completed in ${took} s`,
      undo: { distribution_id: invalidation.distribution_id, invalidation_id: id },
    };
  }

  /** Nothing to undo, and nothing worth doing here: see the summary. */
  async undo(step: Step): Promise<{ summary: string; kept?: boolean }> {
    this.invalidationStep(step);
    return {
      summary:
        'nothing to undo: an invalidation only drops cached copies, and invalidating now would run before the earlier steps restore the previous files (rollback goes in reverse order); an s3-sync step with invalidate_after_restore invalidates after its restore',
      kept: true,
    };
  }

  async invalidate(request: InvalidationRequest): Promise<InvalidationResult> {
    const started = this.now();
    const deadline = started + request.timeoutSeconds * 1000;
    const where = `distribution ${request.distributionId}`;
    const created = await this.create(request, deadline);
    const id = created.id;
    let status = created.status;
    let lastError: unknown;
    while (status !== 'Completed') {
      const remaining = deadline - this.now();
      if (remaining <= 0) {
        throw new StepFailedError(
          `invalidation ${id} on ${where} is still ${status} after ${request.timeoutSeconds} s (CloudFront goes on with it; raise the step's timeout if it usually takes longer)${lastError ? `; the last status read failed: ${describeAwsError(lastError)}` : ''}`,
        );
      }
      await this.sleep(Math.min(this.pollIntervalMs, remaining));
      try {
        const read = await this.options.client.send(
          new GetInvalidationCommand({ DistributionId: request.distributionId, Id: id }),
        );
        status = read.Invalidation?.Status ?? status;
        lastError = undefined;
      } catch (error) {
        if (!isTransientAwsError(error)) {
          throw new StepFailedError(
            `cannot read invalidation ${id} on ${where}: ${describeAwsError(error)}`,
            {
              cause: error,
            },
          );
        }
        lastError = error;
      }
    }
    return { id, seconds: Math.round((this.now() - started) / 1000) };
  }

  private async create(
    request: InvalidationRequest,
    deadline: number,
  ): Promise<{ id: string; status: string }> {
    const where = `distribution ${request.distributionId}`;
    for (let attempt = 0; ; attempt++) {
      try {
        const created = await this.options.client.send(
          new CreateInvalidationCommand({
            DistributionId: request.distributionId,
            InvalidationBatch: {
              CallerReference: request.callerReference,
              Paths: { Quantity: request.paths.length, Items: request.paths },
            },
          }),
        );
        const id = created.Invalidation?.Id;
        if (!id)
          throw new StepFailedError(`CloudFront created no invalidation on ${where} (no id in its answer)`);
        return { id, status: created.Invalidation?.Status ?? 'InProgress' };
      } catch (error) {
        if (error instanceof StepFailedError) throw error;
        const delay = Math.min(this.pollIntervalMs, 1000 * 2 ** attempt);
        const worthWaiting = isTransientAwsError(error) || isBusy(error);
        if (!worthWaiting || this.now() + delay >= deadline) {
          throw new StepFailedError(
            `cannot create an invalidation of ${request.paths.join(', ')} on ${where}${worthWaiting ? ` (still failing after ${attempt + 1} attempts, ${request.timeoutSeconds} s bound)` : ''}: ${describeAwsError(error)}`,
            { cause: error },
          );
        }
        await this.sleep(delay);
      }
    }
  }

  private invalidationStep(step: Step): InvalidationStep {
    if (step.kind !== 'cloudfront-invalidation') {
      throw new StepKindUnsupportedError(
        `CloudFrontInvalidationStepRunner runs cloudfront-invalidation steps, not ${step.kind} ("${step.name}")`,
      );
    }
    return step;
  }
}

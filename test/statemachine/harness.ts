import { readFileSync } from 'node:fs';
import { sweepMonitors } from '../../functions/monitor-sweep/monitor-sweep.js';
import { castVote } from '../../functions/shared/approval-votes.js';
import type { Ports } from '../../functions/shared/ports/index.js';
import { startDeployment } from '../../functions/shared/start-deployment.js';
import type { TaskStateName } from '../../functions/shared/workflow.js';
import { CORES } from '../../local/registry.js';
import { type LocalExecution, type LocalRunnerOptions, LocalWorkflow } from '../../local/runner.js';
import { CONFIG, RELEASE_FIELDS } from '../fixtures/config.js';
import { fakePorts } from '../fixtures/ports.js';

export const ASL_PATH = new URL('../../statemachine/deploy-pipeline.asl.json', import.meta.url);
export const loadAsl = () =>
  JSON.parse(readFileSync(ASL_PATH, 'utf8')) as {
    States: Record<string, { Type: string; [key: string]: unknown }>;
  };

export type ApprovalScript = 'approve' | 'hold' | 'expire' | 'none';

export const createHarness = (
  options: {
    config?: string;
    approval?: ApprovalScript;
    /** this Task state's core throws */
    failAt?: TaskStateName;
    /** called instead of the sweep while a bake interval waits (e.g. to deliver an alarm event) */
    atBake?: (deploymentId: string, ports: Ports) => Promise<void>;
    /** every event of every execution, as the definition runs (the cost benchmark counts transitions) */
    onEvent?: LocalRunnerOptions['onEvent'];
  } = {},
) => {
  const fakes = fakePorts(options.config ?? CONFIG);
  const { clock, tracker, store } = fakes;
  const workflow = new LocalWorkflow(loadAsl(), {
    retryIntervalMs: 0,
    lockRetryMs: 5,
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  });
  const ports: Ports = { ...fakes.ports, workflow };
  const injected = async () => {
    throw new Error(`failure injected at ${options.failAt}`);
  };
  workflow.bind(ports, options.failAt ? { ...CORES, [options.failAt]: injected } : CORES);
  tracker.add({
    id: 't1',
    name: 'User Notifications',
    customFields: RELEASE_FIELDS,
  });
  const approval = options.approval ?? 'approve';

  /** Plays the people and the sweep until the execution ends: decides approvals, ends bake intervals. */
  const drive = async (deploymentId: string): Promise<LocalExecution> => {
    const execution = workflow.execution(deploymentId);
    if (!execution) throw new Error(`no execution ${deploymentId}`);
    let finished = false;
    void execution.done.then(() => {
      finished = true;
    });
    while (!finished) {
      await new Promise((resolve) => setTimeout(resolve, 2));
      const record = await store.getDeployment(deploymentId);
      const pending = await store.findApprovalByDeployment(deploymentId);
      if (
        record?.status === 'awaiting-approval' &&
        pending?.status === 'pending' &&
        workflow.isWaiting(pending.taskToken)
      ) {
        if (approval === 'approve') {
          await castVote(
            pending.approvalId,
            { by: 'lead@example.com', decision: 'approve', at: clock.now().toISOString(), channel: 'link' },
            {},
            ports,
          );
        } else if (approval === 'hold') {
          await castVote(
            pending.approvalId,
            {
              by: 'lead@example.com',
              decision: 'hold',
              at: clock.now().toISOString(),
              channel: 'link',
              comment: 'wait for the marketing launch',
            },
            {},
            ports,
          );
        } else if (approval === 'expire') {
          clock.advance(24 * 3600 + 1);
          await sweepMonitors(ports);
        }
        continue;
      }
      const token = await store.getMonitorToken(deploymentId);
      if (options.atBake && token && workflow.isWaiting(token)) {
        await options.atBake(deploymentId, ports);
        continue;
      }
      if (record?.monitoring?.intervalEndsAt && token && workflow.isWaiting(token)) {
        const due = new Date(record.monitoring.intervalEndsAt).getTime() - clock.now().getTime();
        if (due > 0) clock.advance(due / 1000);
        await sweepMonitors(ports);
      }
    }
    return execution;
  };

  const run = async (taskId = 't1') => {
    const started = await startDeployment(
      { taskId, trigger: 'cli', requestedBy: 'dev@example.com', requireInputStatus: true },
      ports,
    );
    if (!started.started) throw new Error(`not started: ${started.reason}`);
    const execution = await drive(started.deploymentId);
    const record = await store.getDeployment(started.deploymentId);
    if (!record) throw new Error('no record');
    return { execution, record, deploymentId: started.deploymentId, comments: tracker.textsOf(taskId) };
  };

  return { ...fakes, ports, workflow, run, drive };
};

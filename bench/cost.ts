import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateMachine } from 'aws-local-stepfunctions';
import type { EventLog } from '../local/runner.js';
import { CONFIG } from '../test/fixtures/config.js';
import { createHarness } from '../test/statemachine/harness.js';
import { type BenchMode, type Benchmark, type BenchResult, type BenchRow, fmt, ROOT } from './framework.js';

/**
 * Prices. Step Functions: $0.025 per 1,000 state transitions, Standard workflows, us-east-1 / eu-west-1
 * (aws.amazon.com/step-functions/pricing, as quoted in the team's reference notes). Lambda: $0.20 per million
 * requests and $0.0000133334 per GB-second on arm64 (first pricing tier) — taken from the AWS Lambda pricing
 * page as of our knowledge, to be checked. Free tiers are not deducted.
 */
const USD_PER_TRANSITION = 0.025 / 1000;
const USD_PER_LAMBDA_REQUEST = 0.2 / 1_000_000;
const USD_PER_GB_SECOND_ARM = 0.0000133334;
/** The stack's functions: NodeFunction's default, 512 MB on arm64; about 200 ms per invocation (assumed). */
const LAMBDA_MEMORY_GB = 0.5;
const LAMBDA_SECONDS = 0.2;
const usdPerInvocation = (memoryGb: number) =>
  USD_PER_LAMBDA_REQUEST + memoryGb * LAMBDA_SECONDS * USD_PER_GB_SECOND_ARM;
const DEPLOYMENTS_PER_MONTH = 20 * 30;
/** The bake sweep runs on an EventBridge Scheduler rate of one minute (infra/stack.ts MonitorSweepSchedule). */
const SWEEPS_PER_HOUR = 60;
const TARGET_TRANSITIONS = 40;
const REPORT_MINUTES = 15;

/** The workflow tests' deployment (test/fixtures/config.ts: three steps, one check, approval needed), baking this long. */
const configText = (bakeMinutes: number) => {
  const text = CONFIG.replace('monitoring_period: 30m', `monitoring_period: ${bakeMinutes}m`);
  if (text === CONFIG) throw new Error('cost: the test config no longer sets monitoring_period: 30m');
  return text;
};

type Phase = 'pre' | 'bake' | 'post';

/** What Step Functions bills, counted from an execution's event log. */
interface Counts {
  /** StateEntered events, plus StateRetried (a retry is billed as a transition) */
  transitions: number;
  /** Task states entered or retried: each invokes one Lambda (the callback Tasks too) */
  tasks: number;
  events: number;
  /** the states entered, in order */
  states: string[];
}

const emptyCounts = (): Counts => ({ transitions: 0, tasks: 0, events: 0, states: [] });

const count = (counts: Counts, event: EventLog) => {
  counts.events++;
  if (event.type !== 'StateEntered' && event.type !== 'StateRetried') return;
  counts.transitions++;
  if (event.state.type === 'Task') counts.tasks++;
  if (event.type === 'StateEntered') counts.states.push(event.state.name);
};

/**
 * devops-agent: the committed definition in LocalWorkflow over fake ports and a fake clock, driven by the
 * statemachine tests' harness: the approver approves as soon as asked, and each bake interval is ended by
 * the sweep after the clock jumps to its end, so the bake's waits take no time.
 */
const runOurs = async (bakeMinutes: number) => {
  const phases: Record<Phase, Counts> = { pre: emptyCounts(), bake: emptyCounts(), post: emptyCounts() };
  let phase: Phase = 'pre';
  const h = createHarness({
    config: configText(bakeMinutes),
    onEvent: (_execution, event) => {
      if (event.type === 'StateEntered' && event.state.name === 'StartMonitoring') phase = 'bake';
      if (event.type === 'StateEntered' && event.state.name === 'Finalize') phase = 'post';
      count(phases[phase], event);
    },
  });
  const { execution, record } = await h.run();
  if (execution.status !== 'SUCCEEDED' || record.outcome !== 'deployed')
    throw new Error(
      `cost: the deployment ended ${execution.status} / ${record.outcome ?? record.status}: ${execution.cause ?? ''}`,
    );
  return { phases, lastState: execution.currentState };
};

/**
 * The baseline: the seed's bake loop (bench/seed-loop.asl.json) in aws-local-stepfunctions, its minute
 * waits skipped, with stub Lambdas that never see a breach.
 */
const runSeedLoop = async (bakeMinutes: number) => {
  const asl = JSON.parse(readFileSync(join(ROOT, 'bench/seed-loop.asl.json'), 'utf8'));
  const machine = new StateMachine(asl, { validationOptions: { checkArn: true, checkPaths: true } });
  type Bake = {
    minute: number;
    period: number;
    reportEvery: number;
    breached?: boolean;
    reportDue?: boolean;
  };
  const run = machine.run(
    { bake: { minute: 0, period: bakeMinutes, reportEvery: REPORT_MINUTES } },
    {
      overrides: {
        waitTimeOverrides: { WaitMinute: 0 },
        taskResourceLocalHandlers: {
          StartMonitoring: (input) => input,
          CheckMetrics: (input) => {
            const bake = input as Bake;
            const minute = bake.minute + 1;
            return { ...bake, minute, breached: false, reportDue: minute % bake.reportEvery === 0 };
          },
          ReportStatus: () => ({}),
          Rollback: () => ({}),
        },
      },
    },
  );
  const counts = emptyCounts();
  const follow = (async () => {
    for await (const event of run.eventLogs) count(counts, event);
  })();
  await run.result;
  await follow;
  // BakeComplete stands for the transition into Finalize, which the states after the bake already count
  if (counts.states.at(-1) === 'BakeComplete') counts.transitions--;
  return counts;
};

const usd = (value: number) => Number(value.toPrecision(3));

export const cost: Benchmark = {
  id: 'cost',
  title: 'Cost per deployment',
  async run(mode: BenchMode): Promise<BenchResult> {
    const bakeMinutes = mode === 'full' ? 60 : 15;
    const ours = await runOurs(bakeMinutes);
    const loopBake = await runSeedLoop(bakeMinutes);
    const { pre, bake, post } = ours.phases;
    const outside = { transitions: pre.transitions + post.transitions, tasks: pre.tasks + post.tasks };
    const ourTransitions = outside.transitions + bake.transitions;
    const loopTransitions = outside.transitions + loopBake.transitions;
    const ourTasks = outside.tasks + bake.tasks;
    const loopTasks = outside.tasks + loopBake.tasks;
    const sweeps = (SWEEPS_PER_HOUR * bakeMinutes) / 60;
    const perInvocation = usdPerInvocation(LAMBDA_MEMORY_GB);
    const perDeployment = (transitions: number, invocations: number, memoryGb = LAMBDA_MEMORY_GB) =>
      transitions * USD_PER_TRANSITION + invocations * usdPerInvocation(memoryGb);
    const ourUsd = perDeployment(ourTransitions, ourTasks + sweeps);
    const loopUsd = perDeployment(loopTransitions, loopTasks);
    // a month: the sweep's schedule runs every minute whether or not anything bakes (a fixed cost, shared by
    // every deployment baking at the time), so it is counted once for the month, not per deployment
    const sweepsPerMonth = SWEEPS_PER_HOUR * 24 * 30;
    const ourMonth =
      DEPLOYMENTS_PER_MONTH * perDeployment(ourTransitions, ourTasks) + sweepsPerMonth * perInvocation;
    const loopMonth = DEPLOYMENTS_PER_MONTH * perDeployment(loopTransitions, loopTasks);
    const bakeLabel = `${bakeMinutes}-minute bake, ${REPORT_MINUTES}-minute reports`;
    const loopLabel = 'seed loop, check every minute';
    const full = mode === 'full';
    const rows: BenchRow[] = [
      {
        metric: `state transitions per deployment (${bakeLabel})`,
        value: ourTransitions,
        unit: 'transitions',
        baseline: loopTransitions,
        baselineLabel: loopLabel,
        target: `≤ ${TARGET_TRANSITIONS} (60-minute bake)`,
        ...(full ? { met: ourTransitions <= TARGET_TRANSITIONS } : {}),
      },
      {
        metric: '… of which in the bake',
        value: bake.transitions,
        unit: 'transitions',
        baseline: loopBake.transitions,
        baselineLabel: loopLabel,
      },
      {
        metric: 'Lambda invocations by the execution (Task states)',
        value: ourTasks,
        unit: 'invocations',
        baseline: loopTasks,
        baselineLabel: loopLabel,
      },
      {
        metric: `Lambda invocations incl. the minute sweep during the bake (+${sweeps})`,
        value: ourTasks + sweeps,
        unit: 'invocations',
        baseline: loopTasks,
        baselineLabel: loopLabel,
      },
      {
        metric: 'dollars per deployment (Step Functions + Lambda, sweep included)',
        value: usd(ourUsd),
        unit: 'USD',
        baseline: usd(loopUsd),
        baselineLabel: loopLabel,
      },
      {
        metric: `dollars per month at 20 deployments a day (${DEPLOYMENTS_PER_MONTH}, sweep all month)`,
        value: usd(ourMonth),
        unit: 'USD',
        baseline: usd(loopMonth),
        baselineLabel: loopLabel,
      },
    ];
    const cents = (value: number) => `$${fmt(usd(value))}`;
    return {
      id: 'cost',
      title: 'Cost per deployment',
      rows,
      notes: [
        `devops-agent: one deployment like the workflow tests' (three steps, one http check, approval given at once, monitoring_period ${bakeMinutes}m, report_interval ${REPORT_MINUTES}m) through the committed statemachine/deploy-pipeline.asl.json in LocalWorkflow (aws-local-stepfunctions) over fake ports and a fake clock, each bake interval ended by the sweep after the clock jumps to its end, so no wait takes time; it ended Deployed (last state ${ours.lastState}).`,
        `Transitions are counted from the execution's event log (aws-local-stepfunctions' eventLogs, the same stream LocalWorkflow counts): one per StateEntered event plus one per StateRetried (AWS bills retries as transitions; there were none); Lambda invocations are the Task states among them (the waitForTaskToken Tasks invoke a Lambda too); this run had ${pre.events + bake.events + post.events} events in all.`,
        `Split: ${pre.transitions} transitions before the bake (Acknowledge … Verify, ${pre.tasks} Lambdas), ${bake.transitions} in it (StartMonitoring, then Monitor → ReportStatus → BakeComplete? once per report interval), ${post.transitions} after it (Finalize … Deployed, ${post.tasks} Lambdas).`,
        `Baseline: bench/seed-loop.asl.json, a model of the seed's design (Wait 60 s → Task CheckMetrics → Choice, a ReportStatus Task every ${REPORT_MINUTES} minutes, leaving the loop after ${bakeMinutes} checks), run in aws-local-stepfunctions with its wait skipped and counted the same way; the states before and after the bake are taken as devops-agent's (${outside.transitions} transitions, ${outside.tasks} Lambdas), so only the bake differs.`,
        `Outside the execution, the bake sweep (monitor-sweep, EventBridge Scheduler every minute) makes ${SWEEPS_PER_HOUR} invocations an hour whether or not anything bakes, and one invocation checks every baking deployment, so it is shared: the per-deployment row charges a lone deployment all ${sweeps} sweeps of its bake, the monthly row charges the schedule once (${sweepsPerMonth} invocations a month); the alarm-event function runs only on a breach (none here), and the webhook, approval pages and polling pickup are the same in both designs and not counted.`,
        `Prices: Step Functions $0.025 per 1,000 state transitions (Standard workflows, us-east-1 / eu-west-1, from the published price list); Lambda $0.20 per million requests and $0.0000133334 per GB-second on arm64, taken from the AWS Lambda pricing page as of our knowledge, to be checked; free tiers not deducted.`,
        `Lambda duration assumed ~200 ms per invocation at 512 MB arm64 (the stack's NodeFunction default), $${fmt(usd(perInvocation * 1e6))} per million invocations; at 128 MB it would be $${fmt(usd(usdPerInvocation(0.125) * 1e6))} per million and ${cents(perDeployment(ourTransitions, ourTasks + sweeps, 0.125))} per devops-agent deployment (${cents(perDeployment(loopTransitions, loopTasks, 0.125))} for the loop): transitions dominate, one costs as much as ~${Math.round(USD_PER_TRANSITION / perInvocation)} such invocations.`,
        `For a user: a ${bakeMinutes}-minute monitored deployment costs about ${cents(ourUsd)} on AWS against ${cents(loopUsd)} with a per-minute loop, ${ratioText(loopUsd, ourUsd)} less; at 20 deployments a day that is about ${cents(ourMonth)} a month against ${cents(loopMonth)}.`,
        ...(full
          ? ourTransitions <= TARGET_TRANSITIONS
            ? [
                `Target met: ${ourTransitions} transitions for a 60-minute monitored deployment (≤ ${TARGET_TRANSITIONS}), against ${loopTransitions} for the per-minute loop.`,
              ]
            : [
                `Target not met: ${ourTransitions} transitions for a 60-minute monitored deployment (target ≤ ${TARGET_TRANSITIONS}).`,
              ]
          : [
              `Quick mode bakes ${bakeMinutes} minutes, so the ≤ ${TARGET_TRANSITIONS} target (a 60-minute bake) is not judged.`,
            ]),
      ],
    };
  },
};

const ratioText = (baseline: number, value: number) => `${fmt(Math.round((baseline / value) * 10) / 10)}×`;

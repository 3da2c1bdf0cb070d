import { readFileSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as z from 'zod';
import { startSampleApp } from '../examples/demo/sample-app/server.js';
import { loadConfigFile } from '../functions/shared/config/load.js';
import { duration } from '../functions/shared/config/schema.js';
import { ConfigError, errorMessage } from '../functions/shared/errors.js';
import type { Logger } from '../functions/shared/ports/index.js';
import { approvalLinksIn, decideThroughPage } from './approve-link.js';
import { embeddedTracker, type LocalRuntime, startLocalRuntime } from './runtime.js';

const ROOT = resolve(import.meta.dirname, '..');

const ArgsSchema = z.object({
  scenario: z.enum(['good', 'bad-release'], { error: 'scenario must be "good" or "bad-release"' }),
  'auto-approve': z.boolean(),
  bake: duration('m').optional(),
  'report-interval': duration('m').optional(),
  config: z.string(),
  port: z.coerce.number().int().min(0).max(65535),
  'app-port': z.coerce.number().int().min(1).max(65535),
  'data-dir': z.string(),
  'keep-open': z.boolean(),
});
type DemoArgs = z.infer<typeof ArgsSchema>;

const HELP = `npm start [-- options]   run the devops-agent demo on this machine

  --scenario good|bad-release   good: v2 deploys and bakes; bad-release: v2 fails during the bake and is rolled back
  --auto-approve                approve as the demo approver instead of waiting for you to click the link
  --bake 30s|2m                 length of the post-deploy monitoring (default from the config: 2m)
  --report-interval 30s         status report interval during the bake
  --config FILE                 configuration (default examples/demo/devops-agent.yaml)
  --port N                      console and approval pages (default 4000; 0 = any free port)
  --app-port N                  the sample service (default 4100, as in the demo config)
  --data-dir DIR                where the SQLite file and documents go (default .devops-agent/demo; wiped at start)
  --keep-open                   keep the console running after the deployment ends (default when run in a terminal)
`;

const parse = (argv: string[]): DemoArgs => {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: 'string', default: 'good' },
      'auto-approve': { type: 'boolean', default: false },
      bake: { type: 'string' },
      'report-interval': { type: 'string' },
      config: { type: 'string', default: resolve(ROOT, 'examples/demo/devops-agent.yaml') },
      port: { type: 'string', default: '4000' },
      'app-port': { type: 'string', default: '4100' },
      'data-dir': { type: 'string', default: resolve(ROOT, '.devops-agent/demo') },
      'keep-open': { type: 'boolean', default: process.stdout.isTTY === true },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  const parsed = ArgsSchema.safeParse(values);
  if (!parsed.success) {
    throw new Error(
      `${parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('\n')}\n\n${HELP}`,
    );
  }
  return parsed.data;
};

const say = (line: string) => process.stdout.write(`${line}\n`);
const logger: Logger = {
  info: (message, extra) => say(`   ${message}${extra ? ` ${JSON.stringify(extra)}` : ''}`),
  warn: (message, extra) => say(`⚠️  ${message}${extra ? ` ${JSON.stringify(extra)}` : ''}`),
  error: (message, extra) => say(`✗  ${message}${extra ? ` ${JSON.stringify(extra)}` : ''}`),
};

/**
 * The demo configuration with its sample service on `appPort` instead of 4100: tests, benchmarks and
 * scripts run the demo beside other things on free ports.
 */
export const demoConfigText = (appPort: number): string =>
  readFileSync(resolve(ROOT, 'examples/demo/devops-agent.yaml'), 'utf8').replaceAll(
    '127.0.0.1:4100',
    `127.0.0.1:${appPort}`,
  );

/**
 * The custom fields of the demo's release task: the pull request the source-control fixture knows, both
 * sign-offs, and the release the sample app is told to run (`v2`, or `v2-bad` which fails in the bake).
 */
export const demoTaskFields = (release: string): Record<string, string> => ({
  PR: '42',
  Repository: 'acme/notifications',
  'Security Review': 'Approved',
  QA: 'Approved',
  Release: release,
});

/** Runs the demo: sample app v1, a task in Ready to Deploy, and the whole flow to Deployed or RolledBack. */
export const runDemo = async (
  args: DemoArgs,
): Promise<{ outcome: string; servedVersion: string; deploymentId?: string }> => {
  const config = loadConfigFile(args.config);
  const service = config.services[0];
  if (!service) throw new Error('the demo configuration needs a service');
  if (args.bake !== undefined) service.monitoring.period = args.bake;
  if (args['report-interval'] !== undefined) service.monitoring.report_interval = args['report-interval'];
  for (const s of config.services) {
    for (const url of [s.monitoring.health_url, s.monitoring.metrics_url]) {
      if (url && new URL(url).port !== String(args['app-port'])) {
        throw new Error(
          `the config watches ${url}, but the sample app runs on port ${args['app-port']}; use the same port in both`,
        );
      }
    }
  }
  rmSync(args['data-dir'], { recursive: true, force: true });

  const app = await startSampleApp({ port: args['app-port'] });
  say(`🟢 Sample service "${service.display_name ?? service.name}" v1 is serving on ${app.url}`);
  let runtime: LocalRuntime | undefined;
  try {
    runtime = await startLocalRuntime({
      config,
      dataDir: args['data-dir'],
      baseDir: ROOT,
      sourceControlFixture: resolve(ROOT, 'examples/demo/fixtures/source-control.json'),
      port: args.port,
      logger,
      retryIntervalMs: 500,
      lockRetryMs: 2000,
      onEvent: (_execution, event) => {
        if (event.type === 'StateEntered' && event.state.type !== 'Choice') say(`   → ${event.state.name}`);
      },
    });
    const rt = runtime;
    say(`🖥️  Console: ${rt.url}   (deployments, the task's comments, the outbox)`);

    const seen = new Set<string>();
    embeddedTracker(rt).onChange((change) => {
      if (change.type === 'comment') say(`\n💬 ${change.text.split('\n').join('\n   ')}\n`);
      if (change.type === 'status') say(`📌 Task status → ${change.status}`);
    });
    const release = args.scenario === 'bad-release' ? 'v2-bad' : 'v2';
    const task = await embeddedTracker(rt).createTask({
      name: 'User Notifications',
      listId: service.tracker.list_id,
      status: service.tracker.input_status ?? config.devops_agent.input_status,
      customFields: demoTaskFields(release),
    });
    say(
      `📋 Task ${task.id} "${task.name}" (release ${release}) is in "${task.status}"; the polling pickup starts it`,
    );
    await rt.poll();

    // Wait for the deployment to end, approving through the real confirm page when asked to.
    for (;;) {
      await new Promise((r) => setTimeout(r, 250));
      const [deployment] = await rt.store.listDeployments({ taskId: task.id });
      if (!deployment) continue;
      const approval = await rt.store.findApprovalByDeployment(deployment.deploymentId);
      if (approval?.status === 'pending' && !seen.has(approval.approvalId)) {
        seen.add(approval.approvalId);
        // the link each approver was mailed, as the outbox (and the console) shows it
        const mails = await rt.outbox.list();
        const link = mails.flatMap((m) => approvalLinksIn(m)).find((l) => l.includes(approval.approvalId));
        say(
          `\n🔗 Approval link mailed to ${service.approvers[0]?.email ?? 'the approver'} (also in the console's outbox): ${link ?? '(no mail: approve with /deploy approve)'}`,
        );
        if (args['auto-approve'] && link) {
          const response = await decideThroughPage(link, 'approve', 'auto-approved by the demo');
          say(`✅ Auto-approved through the confirm page (HTTP ${response.status})`);
        } else {
          say('   Open it, review the plan and press Approve (or Hold).');
        }
      }
      const execution = rt.workflow.execution(deployment.deploymentId);
      if (execution && execution.status !== 'RUNNING') {
        await execution.done;
        const final = await rt.store.getDeployment(deployment.deploymentId);
        const served = (await (await fetch(`${app.url}/version`)).json()) as { version: string };
        say(
          `\n🏁 ${deployment.deploymentId}: ${final?.outcome ?? final?.status} (${execution.currentState}); task is "${(await rt.tracker.getTask(task.id)).status}"; the service serves ${served.version}`,
        );
        if (final?.recordKey) say(`📄 Deployment record: ${rt.ports.artifacts.link(final.recordKey)}`);
        if (args['keep-open']) {
          say(`\nThe console stays open at ${rt.url}; press Ctrl-C to stop.`);
          await new Promise<void>((resolveStop) => process.once('SIGINT', () => resolveStop()));
        }
        return {
          outcome: final?.outcome ?? final?.status ?? 'unknown',
          servedVersion: served.version,
          deploymentId: deployment.deploymentId,
        };
      }
    }
  } finally {
    await runtime?.stop();
    await app.close();
  }
};

const main = async () => {
  let args: DemoArgs;
  try {
    args = parse(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${errorMessage(error)}\n`);
    process.exit(2);
  }
  try {
    const result = await runDemo(args);
    const expected = args.scenario === 'bad-release' ? 'rolled-back' : 'deployed';
    say(JSON.stringify({ summary: { scenario: args.scenario, ...result } }));
    process.exit(result.outcome === expected ? 0 : 1);
  } catch (error) {
    process.stderr.write(
      `${error instanceof ConfigError ? error.message : `demo failed: ${errorMessage(error)}`}\n`,
    );
    process.exit(error instanceof ConfigError ? 2 : 1);
  }
};

if (import.meta.url === `file://${process.argv[1]}`) void main();

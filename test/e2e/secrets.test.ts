import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { ClickUpClient } from '../../functions/shared/adapters/clickup-client.js';
import { approvalLinksIn, decideThroughPage } from '../../local/approve-link.js';
import { runDemoProcess } from '../fixtures/demo-process.js';
import { type FakeClickUp, signBody, startFakeClickUp } from '../fixtures/fake-clickup.js';
import { type FakeGitHub, startFakeGitHub } from '../fixtures/fake-github.js';

const ROOT = resolve(import.meta.dirname, '../..');
const RUN_TIMEOUT_MS = 180_000;

/** Every file under `dir`, as `{ path, text }` (binary files as latin1, so any planted ASCII still shows). */
const filesUnder = (dir: string): { path: string; text: string }[] =>
  existsSync(dir)
    ? readdirSync(dir).flatMap((name) => {
        const path = join(dir, name);
        return statSync(path).isDirectory()
          ? filesUnder(path)
          : [{ path, text: readFileSync(path, 'latin1') }];
      })
    : [];

/** Every row of every table of the runtime's SQLite file, as JSON text per table. */
const databaseDump = (file: string): { path: string; text: string }[] => {
  const db = new DatabaseSync(file, { readOnly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as {
      name: string;
    }[];
    return tables.map(({ name }) => ({
      path: `${file}#${name}`,
      text: JSON.stringify(db.prepare(`SELECT * FROM "${name}"`).all()),
    }));
  } finally {
    db.close();
  }
};

/** `where` each secret shows up in, e.g. `["webhook secret in stdout"]`; empty when none leaks. */
const leaksIn = (secrets: Record<string, string>, places: { path: string; text: string }[]) =>
  places.flatMap((place) =>
    Object.entries(secrets)
      .filter(([, value]) => place.text.includes(value))
      .map(([name]) => `${name} in ${place.path}`),
  );

const until = async (what: string, check: () => boolean | Promise<boolean>, ms = 60_000) => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

describe('secrets across a whole local run', () => {
  it(
    'keeps the demo’s approval signing key out of its output, the task, the records, the outbox and the console',
    async () => {
      // Act
      const run = await runDemoProcess(['--scenario', 'good', '--bake', '4s', '--report-interval', '2s']);

      // Assess: the key the demo generated on first use is the secret to look for
      try {
        expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
        const keyring = JSON.parse(readFileSync(join(run.dataDir, 'approval-keys.json'), 'utf8')) as {
          keys: Record<string, string>;
        };
        const secrets = Object.fromEntries(
          Object.entries(keyring.keys).flatMap(([id, key]) => [
            [`signing key ${id}`, key],
            // the key as bytes, in case something prints it decoded or as hex
            [`signing key ${id} (hex)`, Buffer.from(key, 'base64').toString('hex')],
          ]),
        );
        expect(Object.keys(secrets).length).toBeGreaterThan(0);
        const places = [
          { path: 'stdout', text: run.stdout },
          { path: 'stderr', text: run.stderr },
          ...databaseDump(join(run.dataDir, 'devops-agent.db')),
          ...filesUnder(join(run.dataDir, 'artifacts')),
        ];
        expect(places.find((p) => p.path.endsWith('#outbox'))?.text).toContain('/approvals/');
        expect(leaksIn(secrets, places)).toEqual([]);
      } finally {
        rmSync(run.dir, { recursive: true, force: true });
      }
    },
    RUN_TIMEOUT_MS,
  );

  describe('devops-agent local on (fake) ClickUp and GitHub, with every secret from the environment', () => {
    const SECRETS = {
      'ClickUp API token': 'pk_4242_PLANTEDCLICKUPTOKEN7Q2W9E4R6T8Y1U3I5O',
      'GitHub token': 'ghp_PLANTEDGITHUBTOKEN0a1b2c3d4e5f6g7h8i9j',
      // 48 bytes, base64, as `openssl rand -base64 48` prints it
      'approval signing key': 'UExBTlRFRFNJR05JTkdLRVlQTEFOVEVEU0lHTklOR0tFWVBMQU5URURTSUdOSU5H',
      'database password': 'PLANTEDdbPassw0rd9x8c7v',
      // set below, from the webhook the fake ClickUp creates
      'webhook secret': '',
    };
    const LEAD = { id: 5150, username: 'Alice', email: 'lead@example.com' };
    const DANA = { id: 4242, username: 'Dana', email: 'dana@example.com' };
    const REPO = 'acme/notifications';

    let clickup: FakeClickUp;
    let github: FakeGitHub;
    let dir: string;
    let child: ChildProcess | undefined;

    beforeAll(async () => {
      clickup = await startFakeClickUp({ token: SECRETS['ClickUp API token'] });
      github = await startFakeGitHub({ token: SECRETS['GitHub token'] });
      dir = mkdtempSync(join(tmpdir(), 'devops-agent-secrets-'));
    });
    afterAll(async () => {
      if (child && child.exitCode === null) child.kill('SIGKILL');
      await clickup.stop();
      await github.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it(
      'never writes a token, the webhook secret, the signing key or the database password to a log line, comment, record, mail, HTTP answer or error',
      async () => {
        // Prepare: a list with a webhook (its secret is ClickUp's to make), a task, its merged and green PR
        clickup.addList('901', 'Releases', [
          'to do',
          'ready to deploy',
          'deploying',
          'deployed',
          'rolled back',
        ]);
        const client = new ClickUpClient({ token: SECRETS['ClickUp API token'], baseUrl: clickup.url });
        const webhook = await client.createWebhook(String(clickup.teamId), {
          endpoint: 'http://127.0.0.1:1/pending',
          events: ['taskStatusUpdated', 'taskCommentPosted'],
          list_id: 901,
        });
        SECRETS['webhook secret'] = webhook.secret ?? '';
        expect(SECRETS['webhook secret'].length).toBeGreaterThanOrEqual(16);
        const task = clickup.addTask({ name: 'Release 2.4', listId: '901', status: 'to do' });
        const id = String(task.id);
        github.addRepository(REPO);
        github.addBranch(REPO, 'main', { protected: true });
        const merge = '4f2a9c1e8b7d6a5f4e3d2c1b0a9f8e7d6c5b4a39';
        github.addPullRequest(REPO, {
          title: 'Release 2.4',
          headBranch: `feature/CU-${id}-release`,
          merged: true,
          mergeCommitSha: merge,
        });
        github.addCheckRuns(REPO, merge, [{ name: 'test', status: 'completed', conclusion: 'success' }]);
        const postgres = process.env.DEVOPS_AGENT_TEST_POSTGRES_URL;
        // the password is planted in the URL; a local server on trust auth accepts it
        const databaseUrl = postgres
          ? postgres.replace('://postgres@', `://postgres:${SECRETS['database password']}@`)
          : undefined;
        const config = join(dir, 'devops-agent.yaml');
        writeFileSync(
          config,
          `
devops_agent:
  bot_user_id: "${clickup.bot.id}"
  poll_interval: 300
  input_status: Ready to Deploy
  deploying_status: Deploying
  output_status: Deployed
  failure_status: Rolled Back
  monitoring_period: 2s
services:
  - name: notifications
    repository: ${REPO}
    tracker: { list_id: "901" }
    gates: { ci: true, pr_merged: true, sign_off: [], alarms_clear: false }
    approvers: [{ email: lead@example.com, clickup_user_id: "${LEAD.id}" }]
    steps:
      - { name: Say hello, kind: command, run: [node, -e, "0"] }
${
  databaseUrl
    ? `    verification:
      - { name: Database answers, kind: sql, url_env: NOTIFICATIONS_DB_URL, query: SELECT 1 + 1, expect: 2 }
`
    : ''
}    monitoring: { check_interval: 1s, report_interval: 1m }
`,
        );
        const dataDir = join(dir, 'data');
        let stdout = '';
        let stderr = '';
        child = spawn(
          process.execPath,
          ['bin/devops-agent.mjs', 'local', '--config', config, '--port', '0', '--data-dir', dataDir],
          {
            cwd: ROOT,
            stdio: ['ignore', 'pipe', 'pipe'],
            env: {
              ...process.env,
              FORCE_COLOR: '0',
              CLICKUP_API_TOKEN: SECRETS['ClickUp API token'],
              CLICKUP_API_URL: clickup.url,
              CLICKUP_WEBHOOK_SECRET: SECRETS['webhook secret'],
              GITHUB_TOKEN: SECRETS['GitHub token'],
              GITHUB_API_URL: github.url,
              DEVOPS_AGENT_APPROVAL_KEYS: JSON.stringify({
                current: 'k1',
                keys: { k1: SECRETS['approval signing key'] },
              }),
              ...(databaseUrl ? { NOTIFICATIONS_DB_URL: databaseUrl } : {}),
            },
          },
        );
        child.stdout?.on('data', (d: Buffer) => {
          stdout += d.toString();
        });
        child.stderr?.on('data', (d: Buffer) => {
          stderr += d.toString();
        });
        const exited = new Promise<number | null>((done) => child?.on('exit', done));
        await until('the local runtime', () => {
          if (child?.exitCode !== null) throw new Error(`devops-agent local ended: ${stdout}${stderr}`);
          return /is running on http:\/\/127\.0\.0\.1:\d+/.test(stdout);
        });
        const url = /is running on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1] ?? '';
        await client.updateWebhook(webhook.id, {
          endpoint: `${url}/webhooks/clickup`,
          events: webhook.events,
        });
        const answers: { path: string; text: string }[] = [];
        const keep = async (path: string, response: Response | Promise<Response>) => {
          const r = await response;
          answers.push({
            path: `HTTP ${r.status} ${path}`,
            text: `${JSON.stringify([...r.headers])}${await r.text()}`,
          });
          return r.status;
        };

        // Act: a person moves the task; the approver approves through the mailed link; the bake ends
        const [moved] = await clickup.moveTask(id, 'ready to deploy', DANA);
        let link: string | undefined;
        await until('the approval mail', async () => {
          const state = (await (await fetch(`${url}/api/state`)).json()) as { outbox: { text: string }[] };
          link = state.outbox.flatMap((m) => approvalLinksIn(m))[0];
          return link !== undefined;
        });
        const decided = await decideThroughPage(link ?? '', 'approve', 'ship it');
        answers.push({ path: 'approval confirm', text: decided.html });
        await until('Deployed', () => clickup.statusOf(id) === 'deployed', 90_000);
        // bad input on every route, whose refusals must not quote a secret either
        const body = moved?.body ?? '{}';
        await keep(
          'webhook, signed replay',
          fetch(`${url}/webhooks/clickup`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'x-signature': signBody(body, SECRETS['webhook secret']),
            },
            body,
          }),
        );
        await keep(
          'webhook, wrong signature',
          fetch(`${url}/webhooks/clickup`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-signature': signBody(body, 'not-the-secret') },
            body,
          }),
        );
        await keep(
          'webhook, not JSON',
          fetch(`${url}/webhooks/clickup`, {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'x-signature': signBody('{', SECRETS['webhook secret']),
            },
            body: '{',
          }),
        );
        await keep('approval link, forged token', fetch((link ?? '').replace(/t=[^&]+/, 't=forged')));
        await keep('approval link, used again', fetch(link ?? ''));
        await keep('console state', fetch(`${url}/api/state`));
        await keep('unknown document', fetch(`${url}/artifacts/records/nope.md`));
        await keep(
          'task move, bad body',
          fetch(`${url}/api/tasks/${id}/status`, { method: 'POST', body: '{}' }),
        );
        child.kill('SIGTERM');
        const code = await exited;

        // Assess: the secrets were in use…
        expect(code).toBe(0);
        expect(moved?.status).toBe(202);
        expect(decided.status).toBe(200);
        expect(clickup.requests.some((r) => r.authorization === SECRETS['ClickUp API token'])).toBe(true);
        expect(github.requests.length).toBeGreaterThan(0);
        // …the signing key came from the environment, so no keyring file was written
        expect(existsSync(join(dataDir, 'approval-keys.json'))).toBe(false);
        const records = filesUnder(join(dataDir, 'artifacts'));
        expect(records.some((r) => r.path.endsWith(`${id}-1.md`))).toBe(true);
        if (databaseUrl)
          expect(records.find((r) => r.path.endsWith(`${id}-1.md`))?.text).toContain('Database answers');
        // …and none shows up anywhere the run wrote or answered
        const comments = clickup.requests
          .filter((r) => r.method !== 'GET')
          .map((r, i) => ({ path: `ClickUp ${r.method} ${r.path} #${i}`, text: JSON.stringify(r.body) }));
        expect(comments.some((c) => c.text.includes('DEPLOYED TO PRODUCTION'))).toBe(true);
        const places = [
          { path: 'stdout', text: stdout },
          { path: 'stderr', text: stderr },
          ...comments,
          ...databaseDump(join(dataDir, 'devops-agent.db')),
          ...records,
          ...answers,
          ...clickup.deliveries.map((d, i) => ({ path: `webhook delivery #${i}`, text: d.body })),
        ];
        expect(leaksIn(SECRETS, places)).toEqual([]);
      },
      RUN_TIMEOUT_MS,
    );
  });
});

import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
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
    'keeps the demo’s approval signing key out of its output, the task’s comments, the outbox and the records (database rows and documents)',
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
      // tokens the fakes refuse, for the failure paths
      'refused ClickUp token': 'pk_4242_REFUSEDCLICKUPTOKEN5T6Y7U8I9O0P1A2S',
      'refused GitHub token': 'ghp_REFUSEDGITHUBTOKEN9z8y7x6w5v4u3t2s1r0q',
      // set in beforeAll, from the webhook the fake ClickUp creates
      'webhook secret': '',
    };
    const LEAD = { id: 5150, username: 'Alice', email: 'lead@example.com' };
    const DANA = { id: 4242, username: 'Dana', email: 'dana@example.com' };
    const REPO = 'acme/notifications';
    const postgres = process.env.DEVOPS_AGENT_TEST_POSTGRES_URL;
    // the password is planted in the URL; the local test server (trust auth) accepts it
    const databaseUrl = postgres?.replace('://postgres@', `://postgres:${SECRETS['database password']}@`);

    let clickup: FakeClickUp;
    let github: FakeGitHub;
    let client: ClickUpClient;
    let webhook: { id: string; events: string[] };
    let dir: string;
    const children: ChildProcess[] = [];

    beforeAll(async () => {
      clickup = await startFakeClickUp({ token: SECRETS['ClickUp API token'] });
      github = await startFakeGitHub({ token: SECRETS['GitHub token'] });
      dir = mkdtempSync(join(tmpdir(), 'devops-agent-secrets-'));
      clickup.addList('901', 'Releases', [
        'to do',
        'ready to deploy',
        'deploying',
        'deployed',
        'rolled back',
      ]);
      client = new ClickUpClient({ token: SECRETS['ClickUp API token'], baseUrl: clickup.url });
      // the webhook's secret is ClickUp's to make; each run points the webhook at itself
      const created = await client.createWebhook(String(clickup.teamId), {
        endpoint: 'http://127.0.0.1:1/pending',
        events: ['taskStatusUpdated', 'taskCommentPosted'],
        list_id: 901,
      });
      webhook = created;
      SECRETS['webhook secret'] = created.secret ?? '';
      github.addRepository(REPO);
      github.addBranch(REPO, 'main', { protected: true });
    });
    afterAll(async () => {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
      await clickup.stop();
      await github.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    /** A task in "to do" on list 901 with a merged, green pull request named after it (CU-<id>). */
    const releaseTask = (name: string) => {
      const id = String(clickup.addTask({ name, listId: '901', status: 'to do' }).id);
      const merge = createHash('sha1').update(id).digest('hex');
      github.addPullRequest(REPO, {
        title: name,
        headBranch: `feature/CU-${id}-release`,
        merged: true,
        mergeCommitSha: merge,
      });
      github.addCheckRuns(REPO, merge, [{ name: 'test', status: 'completed', conclusion: 'success' }]);
      return id;
    };

    const configText = () => `
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
`;

    /**
     * `devops-agent local` in its own process, as a user starts it: every secret from the environment
     * (`env` replaces some), the webhook pointed at it. `answers` collects the HTTP answers `ask` reads.
     */
    const startLocal = async (env: Record<string, string> = {}) => {
      const config = join(dir, 'devops-agent.yaml');
      writeFileSync(config, configText());
      const dataDir = mkdtempSync(join(dir, 'data-'));
      let stdout = '';
      let stderr = '';
      const child = spawn(
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
            ...env,
          },
        },
      );
      children.push(child);
      child.stdout?.on('data', (d: Buffer) => {
        stdout += d.toString();
      });
      child.stderr?.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      const exited = new Promise<number | null>((done) => child.on('exit', done));
      await until('the local runtime', () => {
        if (child.exitCode !== null) throw new Error(`devops-agent local ended: ${stdout}${stderr}`);
        return /is running on http:\/\/127\.0\.0\.1:\d+/.test(stdout);
      });
      const url = /is running on (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1] ?? '';
      await client.updateWebhook(webhook.id, { endpoint: `${url}/webhooks/clickup`, events: webhook.events });
      const answers: { path: string; text: string }[] = [];
      return {
        url,
        dataDir,
        answers,
        ask: async (what: string, path: string, init?: RequestInit) => {
          const r = await fetch(path.startsWith('http') ? path : `${url}${path}`, init);
          answers.push({
            path: `HTTP ${r.status} ${what}`,
            text: `${JSON.stringify([...r.headers])}${await r.text()}`,
          });
          return r.status;
        },
        stop: async () => {
          child.kill('SIGTERM');
          const code = await exited;
          return { code, stdout, stderr };
        },
        /** Everything the run wrote or answered, to search for secrets. */
        places: (output: { stdout: string; stderr: string }) => [
          { path: 'stdout', text: output.stdout },
          { path: 'stderr', text: output.stderr },
          ...clickup.requests
            .filter((r) => r.method !== 'GET')
            .map((r, i) => ({ path: `ClickUp ${r.method} ${r.path} #${i}`, text: JSON.stringify(r.body) })),
          ...databaseDump(join(dataDir, 'devops-agent.db')),
          ...filesUnder(join(dataDir, 'artifacts')),
          ...answers,
          ...clickup.deliveries.map((d, i) => ({ path: `webhook delivery #${i}`, text: d.body })),
        ],
      };
    };
    const signed = (body: string, secret = SECRETS['webhook secret']): RequestInit => ({
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': signBody(body, secret) },
      body,
    });

    it(
      'never writes a token, the webhook secret, the signing key or the database password to a log line, comment, record, mail, HTTP answer or error',
      async () => {
        // Prepare
        const id = releaseTask('Release 2.4');
        const local = await startLocal();
        const requestsBefore = clickup.requests.length;

        // Act: a person moves the task; the approver approves through the mailed link; the bake ends
        const [moved] = await clickup.moveTask(id, 'ready to deploy', DANA);
        let link: string | undefined;
        await until('the approval mail', async () => {
          const state = (await (await fetch(`${local.url}/api/state`)).json()) as {
            outbox: { text: string }[];
          };
          link = state.outbox.flatMap((m) => approvalLinksIn(m))[0];
          return link !== undefined;
        });
        const decided = await decideThroughPage(link ?? '', 'approve', 'ship it');
        local.answers.push({ path: 'approval confirm', text: decided.html });
        await until('Deployed', () => clickup.statusOf(id) === 'deployed', 90_000);
        // bad input on every route: the refusals must not quote a secret either
        const body = moved?.body ?? '{}';
        await local.ask('webhook, signed replay', '/webhooks/clickup', signed(body));
        await local.ask('webhook, wrong signature', '/webhooks/clickup', signed(body, 'not-the-secret'));
        await local.ask('webhook, not JSON', '/webhooks/clickup', signed('{'));
        await local.ask('approval link, forged token', (link ?? '').replace(/t=[^&]+/, 't=forged'));
        await local.ask('approval link, used again', link ?? '');
        await local.ask('console state', '/api/state');
        await local.ask('unknown document', '/artifacts/records/nope.md');
        await local.ask('task move, bad body', `/api/tasks/${id}/status`, { method: 'POST', body: '{}' });
        const output = await local.stop();

        // Assess: the secrets were in use…
        expect(output.code).toBe(0);
        expect(moved?.status).toBe(202);
        expect(decided.status).toBe(200);
        expect(
          clickup.requests
            .slice(requestsBefore)
            .every((r) => r.authorization === SECRETS['ClickUp API token']),
        ).toBe(true);
        expect(github.requests.length).toBeGreaterThan(0);
        // …the signing key came from the environment, so no keyring file was written
        expect(existsSync(join(local.dataDir, 'approval-keys.json'))).toBe(false);
        const record = filesUnder(join(local.dataDir, 'artifacts')).find((r) =>
          r.path.endsWith(join('records', `${id}-1.md`)),
        );
        expect(record?.text).toContain('Deployed');
        if (databaseUrl) expect(record?.text).toContain('Database answers');
        expect(clickup.commentTexts(id).some((c) => c.includes('DEPLOYED TO PRODUCTION'))).toBe(true);
        // …and none shows up anywhere the run wrote or answered
        expect(leaksIn(SECRETS, local.places(output))).toEqual([]);
        // a refused signature is not answered with the one expected: that would sign any body for an attacker
        const refusal = local.answers.find((a) => a.path.endsWith('webhook, wrong signature'));
        expect(refusal?.path).toMatch(/^HTTP 40[03] /);
        expect(refusal?.text).not.toContain(signBody(body, SECRETS['webhook secret']));
      },
      RUN_TIMEOUT_MS,
    );

    it(
      'blocks the deployment when GitHub refuses the token, saying so on the task without quoting it',
      async () => {
        // Prepare
        const id = releaseTask('Release 2.5');
        const local = await startLocal({ GITHUB_TOKEN: SECRETS['refused GitHub token'] });

        // Act
        const [moved] = await clickup.moveTask(id, 'ready to deploy', DANA);
        await until('the block', () =>
          clickup.commentTexts(id).some((t) => t.startsWith('⚠️ DEPLOYMENT BLOCKED')),
        );
        const output = await local.stop();

        // Assess
        expect(moved?.status).toBe(202);
        const blocked = clickup.commentTexts(id).find((t) => t.startsWith('⚠️ DEPLOYMENT BLOCKED')) ?? '';
        expect(blocked).toMatch(/token is invalid, expired or revoked/);
        expect(leaksIn(SECRETS, local.places(output))).toEqual([]);
      },
      RUN_TIMEOUT_MS,
    );

    it(
      'answers a delivery it cannot act on because ClickUp refuses the token without quoting the token, in the answer or the log',
      async () => {
        // Prepare
        const id = releaseTask('Release 2.6');
        const local = await startLocal({ CLICKUP_API_TOKEN: SECRETS['refused ClickUp token'] });
        const deliveriesBefore = clickup.deliveries.length;

        // Act
        await clickup.moveTask(id, 'ready to deploy', DANA);
        const body = clickup.deliveries.at(-1)?.body ?? '{}';
        const status = await local.ask('webhook, task unreadable', '/webhooks/clickup', signed(body));
        const output = await local.stop();

        // Assess: ClickUp's refusal reached the log (the path ran), the token did not
        expect(clickup.deliveries.length).toBeGreaterThan(deliveriesBefore);
        expect(status).toBeGreaterThanOrEqual(500);
        expect(output.stdout).toMatch(/401/);
        expect(clickup.statusOf(id)).toBe('ready to deploy');
        expect(leaksIn(SECRETS, local.places(output))).toEqual([]);
      },
      RUN_TIMEOUT_MS,
    );
  });
});

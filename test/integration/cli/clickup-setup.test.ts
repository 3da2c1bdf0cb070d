import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { CliIo } from '../../../cli/io.js';
import { run } from '../../../cli/main.js';
import { readWebhookSecrets } from '../../../functions/shared/webhook-secrets.js';
import { type FakeClickUp, startFakeClickUp } from '../../fixtures/fake-clickup.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const STATUSES = ['to do', 'ready to deploy', 'deploying', 'deployed', 'rolled back'];
const CONFIG = `
devops_agent:
  input_status: Ready to Deploy
  deploying_status: Deploying
  output_status: Deployed
  failure_status: Rolled Back
services:
  - name: notifications
    approvers: [{ email: lead@example.com }]
    tracker: { list_id: "901" }
    steps: [{ name: Go, kind: command, run: [node, -e, "0"] }]
  - name: billing
    approvers: [{ email: lead@example.com }]
    tracker: { list_id: "902" }
    steps: [{ name: Go, kind: command, run: [node, -e, "0"] }]
`;

describe('devops-agent clickup setup against a (fake) ClickUp', () => {
  let clickup: FakeClickUp;
  let dir: string;
  let secretFile: string;
  let endpoint: string;

  /** `clickup setup` in-process with the given extra options; the token and API URL point at the fake. */
  const setup = async (...extra: string[]) => {
    let stdout = '';
    let stderr = '';
    const io: CliIo = {
      env: { CLICKUP_API_TOKEN: clickup.token, CLICKUP_API_URL: clickup.url },
      cwd: dir,
      stdout: (text) => {
        stdout += text;
      },
      stderr: (text) => {
        stderr += text;
      },
    };
    const argv = ['clickup', 'setup', '--team', String(clickup.teamId), '--endpoint', endpoint];
    const code = await run([...argv, '--secret-file', secretFile, ...extra], io);
    return { code, stdout, stderr };
  };
  const stored = () => readWebhookSecrets(readFileSync(secretFile, 'utf8'));
  const writes = () => clickup.requests.filter((r) => r.method !== 'GET');

  beforeEach(async () => {
    clickup = await startFakeClickUp();
    clickup.addList('901', 'Releases', STATUSES);
    clickup.addList(
      '902',
      'Billing',
      STATUSES.map((s) => s.toUpperCase()),
    );
    dir = mkdtempSync(join(tmpdir(), 'devops-agent-cli-'));
    writeFileSync(join(dir, 'devops-agent.yaml'), CONFIG);
    secretFile = join(dir, '.devops-agent', 'clickup-webhook-secret');
    endpoint = 'http://127.0.0.1:4000/webhooks/clickup';
  });
  afterEach(async () => {
    await clickup.stop();
  });

  it('creates one webhook per list on the first run and writes their secrets to a 0600 file', async () => {
    // Act
    const result = await setup();

    // Assess
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const webhooks = [...clickup.webhooks.values()];
    expect(webhooks.map((w) => [w.list_id, w.endpoint, w.events])).toEqual([
      [901, endpoint, ['taskStatusUpdated', 'taskCommentPosted']],
      [902, endpoint, ['taskStatusUpdated', 'taskCommentPosted']],
    ]);
    expect(stored()).toEqual({
      webhooks: Object.fromEntries(
        webhooks.map((w) => [w.id, { list_id: String(w.list_id), secret: w.secret }]),
      ),
    });
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, '.devops-agent')).mode & 0o777).toBe(0o700);
    expect(result.stdout).toContain(
      `  list 901 "Releases" (notifications/production)\n    statuses ok: Ready to Deploy, Deploying, Deployed, Rolled Back\n    webhook created (${webhooks[0]?.id})\n`,
    );
    expect(result.stdout).toContain(`Secrets written to ${secretFile} (mode 0600).`);
  });

  it('changes nothing on a second run', async () => {
    // Prepare
    await setup();
    const before = readFileSync(secretFile, 'utf8');
    clickup.requests.length = 0;

    // Act
    const result = await setup('--json');

    // Assess
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { lists: { webhook: { action: string } }[] };
    expect(report.lists.map((l) => l.webhook.action)).toEqual(['unchanged', 'unchanged']);
    expect(result.stdout).not.toContain(Object.values(stored().webhooks)[0]?.secret);
    expect(writes()).toEqual([]);
    expect(clickup.webhooks.size).toBe(2);
    expect(readFileSync(secretFile, 'utf8')).toBe(before);
  });

  it('revives a suspended webhook and keeps its secret', async () => {
    // Prepare
    await setup();
    const suspended = [...clickup.webhooks.values()][0];
    if (!suspended) throw new Error('no webhook');
    suspended.health = { status: 'suspended', fail_count: 0 };
    const before = stored();
    clickup.requests.length = 0;

    // Act
    const result = await setup();

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`webhook updated (${suspended.id})`);
    expect(suspended.health.status).toBe('active');
    expect(writes().map((r) => `${r.method} ${r.path}`)).toEqual([`PUT /v2/webhook/${suspended.id}`]);
    expect(writes()[0]?.body).toMatchObject({ status: 'active' });
    expect(stored()).toEqual(before);
  });

  it('recreates a webhook whose secret is not stored', async () => {
    // Prepare
    await setup();
    const [kept, lost] = Object.entries(stored().webhooks);
    if (!kept || !lost) throw new Error('expected two stored webhooks');
    writeFileSync(secretFile, JSON.stringify({ webhooks: Object.fromEntries([kept]) }));
    clickup.requests.length = 0;

    // Act
    const result = await setup('--json');

    // Assess
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      lists: { webhook: { action: string; replaced?: string } }[];
    };
    expect(report.lists.map((l) => l.webhook)).toEqual([
      { action: 'unchanged', id: kept[0] },
      { action: 'recreated', id: expect.any(String), replaced: lost[0] },
    ]);
    expect(clickup.webhooks.has(lost[0])).toBe(false);
    const recreated = [...clickup.webhooks.values()].find((w) => w.list_id === 902);
    expect(stored().webhooks[recreated?.id ?? '']).toEqual({ list_id: '902', secret: recreated?.secret });
    expect(writes().map((r) => r.method)).toEqual(['DELETE', 'POST']);
  });

  it('only reads on --dry-run and writes no file', async () => {
    // Act
    const result = await setup('--dry-run');

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('(dry run: nothing is changed)');
    expect(result.stdout).toContain('webhook would create');
    expect(clickup.requests.length).toBeGreaterThan(0);
    expect(clickup.requests.map((r) => r.method)).toEqual(['GET', 'GET', 'GET']);
    expect(clickup.webhooks.size).toBe(0);
    expect(existsSync(secretFile)).toBe(false);
  });

  it('reports a missing status, registers nothing and exits 1', async () => {
    // Prepare
    clickup.addList('902', 'Billing', ['to do', 'ready to deploy', 'deployed', 'rolled back']);

    // Act
    const result = await setup();

    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(
      '✗ list 902 "Billing": missing status "Deploying" (deploying_status) — add it in ClickUp: List settings → Statuses',
    );
    expect(result.stdout).toContain('Nothing was registered: fix the lists above and run again');
    expect(result.stdout).toContain(`Secrets file ${secretFile} not written.`);
    expect(writes()).toEqual([]);
    expect(clickup.webhooks.size).toBe(0);
    expect(existsSync(secretFile)).toBe(false);
  });

  it('explains a token ClickUp refuses', async () => {
    // Prepare
    clickup.fail({
      method: 'GET',
      path: '/v2/list/',
      status: 401,
      body: { err: 'Token invalid', ECODE: 'OAUTH_025' },
    });

    // Act
    const result = await setup();

    // Assess
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toBe(
      "devops-agent: ClickUp GET /v2/list/901 answered 401: Token invalid (OAUTH_025) — ClickUp refused the request: check CLICKUP_API_TOKEN (the bot user's personal token, pk_…) and that --team is a workspace that user belongs to\n",
    );
    expect(existsSync(secretFile)).toBe(false);
  });

  it('runs through bin/devops-agent.mjs with the token and the API URL from the environment', async () => {
    // Act
    const child = spawn(
      process.execPath,
      [
        join(ROOT, 'bin/devops-agent.mjs'),
        ...['clickup', 'setup', '--team', String(clickup.teamId), '--endpoint', endpoint],
        ...['--config', join(dir, 'devops-agent.yaml'), '--secret-file', secretFile],
      ],
      {
        cwd: dir,
        env: { PATH: process.env.PATH, CLICKUP_API_TOKEN: clickup.token, CLICKUP_API_URL: clickup.url },
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const code = await new Promise<number | null>((done) => child.on('close', done));

    // Assess
    expect(code).toBe(0);
    expect(output).toContain('  list 902 "Billing" (billing/production)\n    statuses ok: Ready to Deploy');
    expect(clickup.webhooks.size).toBe(2);
    expect(Object.keys(stored().webhooks)).toHaveLength(2);
  });
});

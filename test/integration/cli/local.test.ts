import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type FakeClickUp, startFakeClickUp } from '../../fixtures/fake-clickup.js';

const ROOT = resolve(import.meta.dirname, '../../..');

/** Starts `devops-agent local` through the bin and collects what it prints. */
const startLocal = (argv: string[], env: Record<string, string> = {}) => {
  const cwd = mkdtempSync(join(tmpdir(), 'devops-agent-local-'));
  const child: ChildProcessWithoutNullStreams = spawn(
    process.execPath,
    [join(ROOT, 'bin/devops-agent.mjs'), 'local', '--port', '0', '--data-dir', join(cwd, 'data'), ...argv],
    { cwd, env: { PATH: process.env.PATH, ...env } },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((done) => child.on('close', done));
  /** waits until the output matches, or the process ends */
  const printed = async (pattern: RegExp) => {
    const deadline = Date.now() + 20_000;
    while (!pattern.test(output)) {
      if (child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`devops-agent local did not print ${pattern}:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    return output;
  };
  return { child, cwd, exited, printed, output: () => output };
};

describe('devops-agent local', () => {
  let clickup: FakeClickUp | undefined;
  afterEach(async () => {
    await clickup?.stop();
    clickup = undefined;
  });

  it('serves the demo configuration on the embedded tracker and stops cleanly on SIGTERM', async () => {
    // Prepare
    const local = startLocal(['--config', join(ROOT, 'examples/demo/devops-agent.yaml')]);
    const started = await local.printed(/running on (http:\/\/127\.0\.0\.1:\d+) \(embedded tracker\)/);
    const url = /running on (\S+)/.exec(started)?.[1] ?? '';

    // Act
    const page = await fetch(`${url}/`);
    local.child.kill('SIGTERM');
    const code = await local.exited;

    // Assess
    expect(page.status).toBe(200);
    expect(local.output()).toContain(`ClickUp webhook: POST ${url}/webhooks/clickup`);
    expect(local.output()).toContain('SIGTERM: stopping…\nstopped\n');
    expect(code).toBe(0);
  });

  it('drives ClickUp when CLICKUP_API_TOKEN is set, with the secrets from the secret file', async () => {
    // Prepare
    clickup = await startFakeClickUp();
    const config = join(mkdtempSync(join(tmpdir(), 'devops-agent-local-')), 'devops-agent.yaml');
    writeFileSync(
      config,
      'services: [{ name: app, approvers: [{ email: lead@example.com }], tracker: { list_id: "901" }, steps: [{ name: Go, kind: command, run: [node, -e, "0"] }] }]\n',
    );
    const secretFile = join(mkdtempSync(join(tmpdir(), 'devops-agent-local-')), 'secret');
    writeFileSync(secretFile, JSON.stringify({ webhooks: { wh1: { list_id: '901', secret: 'S1' } } }));
    const local = startLocal(['--config', config], {
      CLICKUP_API_TOKEN: clickup.token,
      CLICKUP_API_URL: clickup.url,
      CLICKUP_WEBHOOK_SECRET_FILE: secretFile,
    });

    // Act
    const started = await local.printed(/ClickUp webhook: POST \S+\n/);
    local.child.kill('SIGINT');
    const code = await local.exited;

    // Assess
    expect(started).toMatch(/running on http:\/\/127\.0\.0\.1:\d+ \(ClickUp\)/);
    expect(code).toBe(0);
  });

  it('refuses to drive ClickUp without a webhook secret, saying what to run', async () => {
    // Prepare
    const config = join(ROOT, 'examples/demo/devops-agent.yaml');

    // Act
    const local = startLocal(['--config', config], {
      CLICKUP_API_TOKEN: 'pk_1',
      CLICKUP_WEBHOOK_SECRET_FILE: '/nonexistent/secret',
    });
    const code = await local.exited;

    // Assess
    expect(code).toBe(1);
    expect(local.output()).toBe(
      'devops-agent: CLICKUP_API_TOKEN is set but there is no webhook secret: run `devops-agent clickup setup` or set CLICKUP_WEBHOOK_SECRET\n',
    );
  });

  it('says so when the port is taken', async () => {
    // Prepare
    const taken = createServer();
    await new Promise<void>((done) => taken.listen(0, '127.0.0.1', done));
    const { port } = taken.address() as { port: number };

    // Act
    const local = startLocal([
      '--config',
      join(ROOT, 'examples/demo/devops-agent.yaml'),
      '--port',
      String(port),
    ]);
    const code = await local.exited;
    await new Promise((done) => taken.close(done));

    // Assess
    expect(code).toBe(1);
    expect(local.output()).toBe(
      `devops-agent: port ${port} is in use; pass another --port (0 = any free port)\n`,
    );
  });
});

import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeSecretsFile } from '../../../cli/clickup-setup-command.js';
import { readWebhookSecrets } from '../../../functions/shared/webhook-secrets.js';
import { runCli } from '../../fixtures/cli.js';

/** Runs one command line with captured output and the given environment. */
const cli = (argv: string[], env: Record<string, string> = {}, cwd = tmpdir()) => runCli(argv, { cwd, env });

const SETUP = [
  'clickup',
  'setup',
  '--team',
  '9001',
  '--endpoint',
  'https://agent.example.com/webhooks/clickup',
];

describe('devops-agent command line', () => {
  it('prints the commands and the exit codes for --help and help', async () => {
    // Act
    const long = await cli(['--help']);
    const word = await cli(['help']);

    // Assess
    expect(long.code).toBe(0);
    expect(long.stdout).toContain('clickup setup');
    expect(long.stdout).toContain('plan <task-id>');
    expect(long.stdout).toContain('3  plan: the plan was printed, but a gate failed');
    expect(long.stdout).toContain('Exit codes:');
    expect(word.stdout).toBe(long.stdout);
  });

  it('names the known commands and exits 2 on an unknown command', async () => {
    // Act
    const result = await cli(['redeploy']);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'devops-agent: unknown command "redeploy"; the known commands are clickup setup, local, plan, validate, deploy, status, approve, hold, rollback, history, help (devops-agent --help says more)\n',
    );
  });

  it('prints the help on stderr and exits 2 without a command', async () => {
    // Act
    const result = await cli([]);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('devops-agent <command>');
  });

  it('exits 2 on an unknown option or a bad endpoint, naming the option', async () => {
    // Act
    const unknown = await cli([...SETUP, '--verbose'], { CLICKUP_API_TOKEN: 'pk_1' });
    const plain = await cli([
      'clickup',
      'setup',
      '--team',
      '9001',
      '--endpoint',
      'http://agent.example.com/hook',
    ]);
    const local = await cli(['local', '--port', 'eighty']);

    // Assess
    expect(unknown).toMatchObject({ code: 2 });
    expect(unknown.stderr).toBe(
      "devops-agent: clickup setup: Unknown option '--verbose'; see devops-agent clickup setup --help\n",
    );
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('--endpoint must be an https URL ClickUp can reach');
    expect(local.code).toBe(2);
    expect(local.stderr).toContain('local: --port: expected a port number');
  });

  it('takes the workspace id from CLICKUP_TEAM_ID and asks for it when neither is given', async () => {
    // Prepare
    const endpoint = ['--endpoint', 'https://agent.example.com/webhooks/clickup'];

    // Act
    const missing = await cli(['clickup', 'setup', ...endpoint], {});
    const fromEnv = await cli(['clickup', 'setup', ...endpoint], { CLICKUP_TEAM_ID: '9001' });

    // Assess
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('pass --team ID or set CLICKUP_TEAM_ID');
    expect(fromEnv.code).toBe(1);
    expect(fromEnv.stderr).toContain('CLICKUP_API_TOKEN is not set');
  });

  it('says how to fix a missing token, and prints a configuration error as it is', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'devops-agent-cli-'));
    writeFileSync(join(dir, 'bad.yaml'), 'services: []\n');

    // Act
    const noToken = await cli(SETUP, {}, dir);
    const noFile = await cli([...SETUP, '--config', 'missing.yaml'], { CLICKUP_API_TOKEN: 'pk_1' }, dir);
    const invalid = await cli([...SETUP, '--config', 'bad.yaml'], { CLICKUP_API_TOKEN: 'pk_1' }, dir);

    // Assess
    expect(noToken).toEqual({
      code: 1,
      stdout: '',
      stderr:
        "devops-agent: CLICKUP_API_TOKEN is not set: export the bot user's personal API token (pk_…) and run again\n",
    });
    expect(noFile.code).toBe(1);
    expect(noFile.stderr).toContain(
      `${join(dir, 'missing.yaml')}  (root): cannot read the configuration file (ENOENT); pass an existing file with --config`,
    );
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('invalid configuration:');
    expect(invalid.stderr).toContain('services: configure at least one service');
  });

  it('refuses a secret file it cannot read as secrets, and says what to do', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'devops-agent-cli-'));
    writeFileSync(join(dir, 'secret'), '{"webhooks": 1}');
    writeFileSync(
      join(dir, 'devops-agent.yaml'),
      'services: [{ name: app, approvers: [{ email: lead@example.com }], tracker: { list_id: "901" }, steps: [{ name: Go, kind: command, run: [x] }] }]\n',
    );

    // Act
    const result = await cli([...SETUP, '--secret-file', 'secret'], { CLICKUP_API_TOKEN: 'pk_1' }, dir);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${join(dir, 'secret')} does not hold webhook secrets`);
    expect(result.stderr).toContain('move the file away and run again');
  });
});

describe('the webhook secret file', () => {
  it('is written with mode 0600 in a folder created with mode 0700, replacing the old file', () => {
    // Prepare
    const file = join(mkdtempSync(join(tmpdir(), 'devops-agent-cli-')), 'nested', 'clickup-webhook-secret');
    const secrets = { webhooks: { 'wh-1': { list_id: '901', secret: 'S1' } } };

    // Act
    writeSecretsFile(file, { webhooks: { old: { list_id: '901', secret: 'S0' } } });
    writeSecretsFile(file, secrets);

    // Assess
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(file, '..')).mode & 0o777).toBe(0o700);
    expect(readWebhookSecrets(readFileSync(file, 'utf8'))).toEqual(secrets);
  });
});

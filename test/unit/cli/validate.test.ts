import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runCli } from '../../fixtures/cli.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const DEMO_CONFIG = join(ROOT, 'examples/demo/devops-agent.yaml');

/** A folder holding `text` as devops-agent.yaml. */
const withConfig = (text: string) => {
  const dir = mkdtempSync(join(tmpdir(), 'devops-agent-validate-'));
  writeFileSync(join(dir, 'devops-agent.yaml'), text);
  return dir;
};

const BAD = `services:
  - name: app
    tracker: { list_id: L1 }
    approvers: [{ email: lead@example.com }]
    steps: [{ name: Deploy, kind: command, run: [node, -e, "0"], timeot: 5s }]
`;

describe('devops-agent validate', () => {
  it('prints OK with one line per service and exits 0 for the demo configuration', async () => {
    // Act
    const result = await runCli(['validate', '--config', DEMO_CONFIG]);

    // Assess
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(
      `OK: ${DEMO_CONFIG} (1 service)\n  user-notifications/production: list demo-list, 2 steps, 2 checks, 1 approver (quorum 1), bake 2 min\n`,
    );
    expect(result.code).toBe(0);
  });

  it('reads devops-agent.yaml from the working directory by default', async () => {
    // Prepare
    const dir = withConfig(BAD.replace(', timeot: 5s', ''));

    // Act
    const result = await runCli(['validate'], { cwd: dir });

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('app/production: list L1, 1 step, 0 checks, 1 approver (quorum 1)');
  });

  it("prints the loader's problems with file, line and field and exits 1 for a bad configuration", async () => {
    // Prepare
    const dir = withConfig(BAD);

    // Act
    const result = await runCli(['validate'], { cwd: dir });

    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('devops-agent: invalid configuration:');
    expect(result.stderr).toContain(
      `${join(dir, 'devops-agent.yaml')}:5:13  services[0].steps[0]: unknown field "timeot"`,
    );
  });

  it('exits 1 and says how to fix a missing file', async () => {
    // Act
    const result = await runCli(['validate', '--config', 'nowhere.yaml'], { cwd: tmpdir() });

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'cannot read the configuration file (ENOENT); pass an existing file with --config',
    );
  });

  it('prints parseable JSON for a good and for a bad configuration', async () => {
    // Prepare
    const bad = withConfig(BAD);

    // Act
    const good = await runCli(['validate', '--config', DEMO_CONFIG, '--json']);
    const wrong = await runCli(['validate', '--json'], { cwd: bad });

    // Assess
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toEqual({
      ok: true,
      file: DEMO_CONFIG,
      services: [
        expect.objectContaining({
          service: 'user-notifications',
          environment: 'production',
          steps: 2,
          bakeSeconds: 120,
        }),
      ],
    });
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.stdout)).toEqual({
      ok: false,
      file: join(bad, 'devops-agent.yaml'),
      issues: [expect.objectContaining({ line: 5, path: 'services[0].steps[0]' })],
    });
  });

  it('prints its options and exit codes for --help and exits 2 on an unknown option', async () => {
    // Act
    const help = await runCli(['validate', '--help']);
    const wrong = await runCli(['validate', '--strict']);

    // Assess
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--config FILE');
    expect(help.stdout).toContain('Exit codes: 0 the configuration is valid');
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('see devops-agent validate --help');
  });
});

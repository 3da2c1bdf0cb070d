import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NOT_READY, verdict } from '../../../cli/plan-command.js';
import type { PlanPreview } from '../../../functions/shared/plan-preview.js';
import type { GateResult } from '../../../functions/shared/ports/deployment-store.js';
import { runCli } from '../../fixtures/cli.js';

const CONFIG =
  'services: [{ name: app, approvers: [{ email: lead@example.com }], tracker: { list_id: "L1" }, steps: [{ name: Go, kind: command, run: [node, -e, "0"] }] }]\n';

/** A working directory holding only a valid devops-agent.yaml. */
const workdir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'devops-agent-plan-'));
  writeFileSync(join(dir, 'devops-agent.yaml'), CONFIG);
  return dir;
};

/** Runs one command line with captured output. */
const cli = (argv: string[], cwd = tmpdir(), env: Record<string, string> = {}) => runCli(argv, { cwd, env });

const preview = (gates: GateResult[]): PlanPreview =>
  ({ gates, ready: gates.every((g) => g.passed) }) as PlanPreview;

describe('devops-agent plan: the command line', () => {
  it('prints its options and exit codes for --help and exits 0, without a task id', async () => {
    // Act
    const result = await cli(['plan', '--help']);

    // Assess
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('devops-agent plan <task-id> [options]');
    expect(result.stdout).toContain('--data-dir DIR');
    expect(result.stdout).toContain('--json');
    expect(result.stdout).toContain('3 the plan was printed but a gate failed or could');
    expect(result.stderr).toBe('');
  });

  it('exits 2 and names what is missing when the task id is not given', async () => {
    // Act
    const result = await cli(['plan', '--config', 'devops-agent.yaml']);

    // Assess
    expect(result).toEqual({
      code: 2,
      stdout: '',
      stderr: 'devops-agent: plan: missing <task-id>; see devops-agent plan --help\n',
    });
  });

  it('exits 2 on a second task id, an empty one and an unknown option', async () => {
    // Act
    const two = await cli(['plan', 't1', 't2']);
    const empty = await cli(['plan', ' ']);
    const unknown = await cli(['plan', 't1', '--dry']);

    // Assess
    expect(two.code).toBe(2);
    expect(two.stderr).toBe(
      'devops-agent: plan: unexpected argument "t2": it takes only <task-id>; see devops-agent plan --help\n',
    );
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('plan: the task id is empty');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe("devops-agent: plan: Unknown option '--dry'; see devops-agent plan --help\n");
  });

  it('still refuses an argument to a command that takes none', async () => {
    // Act
    const result = await cli(['local', 'extra']);

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("local: Unexpected argument 'extra'; see devops-agent local --help");
  });

  it('exits 1 saying how to get tasks when the data dir has no embedded tracker, and creates nothing', async () => {
    // Prepare
    const dir = workdir();

    // Act
    const result = await cli(['plan', 'local-abc123'], dir);
    const named = await cli(['plan', 'local-abc123', '--data-dir', 'elsewhere'], dir);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `devops-agent: no embedded tracker at ${join(dir, '.devops-agent/local/devops-agent.db')}: start devops-agent local --data-dir .devops-agent/local (or npm start, then pass --data-dir .devops-agent/demo) so it has tasks, or set CLICKUP_API_TOKEN to read the task from ClickUp\n`,
    );
    expect(named.code).toBe(1);
    expect(named.stderr).toContain(`no embedded tracker at ${join(dir, 'elsewhere/devops-agent.db')}`);
    expect(readdirSync(dir)).toEqual(['devops-agent.yaml']);
    expect(existsSync(join(dir, '.devops-agent'))).toBe(false);
  });

  it('exits 1 with the configuration error before looking for tasks', async () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'devops-agent-plan-'));

    // Act
    const result = await cli(['plan', 't1', '--config', 'missing.yaml'], dir);

    // Assess
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('cannot read the configuration file (ENOENT)');
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('the plan verdict', () => {
  it('says a deployment would reach the approval when every gate passed', () => {
    // Act
    const line = verdict(preview([{ name: 'QA approved', passed: true, evidence: 'QA: Approved' }]));

    // Assess
    expect(line).toBe('✓ Ready: every gate passed (1); a deployment now would reach the approval.');
  });

  it('names each failed gate with its reason and each gate not evaluated with its error, on one line', () => {
    // Prepare
    const gates: GateResult[] = [
      { name: 'Runtime can run every step', passed: true, evidence: '1 steps, 0 checks' },
      {
        name: 'QA approved',
        passed: false,
        evidence: 'QA: Pending',
        reason: 'set the task\'s "QA" field to Approved once the review is done',
      },
      {
        name: 'CI green',
        passed: false,
        evidence: 'could not be evaluated',
        error: 'TransientDependencyError: GitHub answered 502\n  (bad gateway)',
        reason: 'comment /deploy to try again once the dependency answers',
      },
    ];

    // Act
    const line = verdict(preview(gates));

    // Assess
    expect(line).toBe(
      '✗ Not ready: 2 of 3 gates did not pass, so a deployment now would stop at the gates — "QA approved" failed: set the task\'s "QA" field to Approved once the review is done; "CI green" could not be evaluated: TransientDependencyError: GitHub answered 502 (bad gateway)',
    );
    expect(line).not.toContain('\n');
    expect(NOT_READY).toBe(3);
  });
});

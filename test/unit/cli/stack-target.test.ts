import { agentTarget } from '../../../cli/agent-client.js';
import { runCli } from '../../fixtures/cli.js';

const COMMAND = 'devops-agent status';

describe('choosing the agent: --url (local runtime) or --stack (deployed stack)', () => {
  it.each(['deploy', 'status', 'approve', 'hold', 'rollback', 'history'])(
    'documents --stack, --region and --config in %s --help',
    async (command) => {
      // Act
      const result = await runCli([command, '--help']);

      // Assess
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('--stack NAME');
      expect(result.stdout).toContain('$DEVOPS_AGENT_STACK');
      expect(result.stdout).toContain('--region REGION');
      expect(result.stdout).toContain('--config FILE');
    },
  );

  it.each([
    [
      ['status', '--stack', 'DevopsAgent', '--url', 'http://127.0.0.1:4000'],
      {},
      '--url (a local runtime) and --stack',
    ],
    [['history', '--region', 'eu-west-1'], {}, 'history: --region goes with --stack'],
    [['deploy', 't1', '--config', 'x.yaml'], {}, 'deploy: --config goes with --stack'],
    [
      ['status'],
      { DEVOPS_AGENT_URL: 'http://127.0.0.1:4000', DEVOPS_AGENT_STACK: 'DevopsAgent' },
      'both set',
    ],
    [['status', '--stack', 'not a stack!'], {}, 'status: --stack: expected a CloudFormation stack name'],
    [
      ['status', '--stack', 'DevopsAgent', '--region', 'Ireland'],
      {},
      'status: --region: expected an AWS region',
    ],
  ])('exits 2 on %j, naming the problem', async (argv, env, message) => {
    // Act
    const result = await runCli(argv, { env });

    // Assess
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it('prefers an explicit option to the other variable, and repeats only the options given in printed commands', () => {
    // Act
    const byUrl = agentTarget(
      COMMAND,
      { url: 'http://127.0.0.1:4100/' },
      { DEVOPS_AGENT_STACK: 'DevopsAgent' },
    );
    const byStack = agentTarget(
      COMMAND,
      { stack: 'Agent', region: 'us-east-1', config: 'prod.yaml' },
      { DEVOPS_AGENT_URL: 'http://127.0.0.1:4100' },
    );
    const fromEnv = agentTarget(
      COMMAND,
      {},
      { DEVOPS_AGENT_STACK: 'DevopsAgent', AWS_DEFAULT_REGION: 'eu-west-1' },
    );
    const local = agentTarget(COMMAND, {}, {});

    // Assess
    expect(byUrl).toEqual({
      kind: 'local',
      url: 'http://127.0.0.1:4100',
      flag: ' --url http://127.0.0.1:4100',
    });
    expect(byStack).toEqual({
      kind: 'stack',
      stack: 'Agent',
      region: 'us-east-1',
      config: 'prod.yaml',
      flag: ' --stack Agent --region us-east-1 --config prod.yaml',
    });
    expect(fromEnv).toEqual({
      kind: 'stack',
      stack: 'DevopsAgent',
      region: 'eu-west-1',
      config: 'devops-agent.yaml',
      flag: '',
    });
    expect(local).toEqual({ kind: 'local', url: 'http://127.0.0.1:4000', flag: '' });
  });
});

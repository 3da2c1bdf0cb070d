import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { PROJECT_ROOT } from '../../infra/constructs/node-function.js';
import { buildStack, type DevopsAgentStack } from '../../infra/stack.js';
import { unacknowledgedNagFindings } from './nag.js';
import { type Statement, templateText } from './template-text.js';

const CONFIGS = {
  demo: resolve(PROJECT_ROOT, 'examples/demo/devops-agent.yaml'),
  seed: resolve(PROJECT_ROOT, 'examples/seed-notifications/devops-agent.yaml'),
};

/**
 * The only actions granted on `Resource: "*"`, and why `*` is the narrowest grant IAM accepts for each
 * (none of them has a resource type in the Service Authorization Reference). `holders` says which
 * roles may carry it; a new `*` statement anywhere else fails the test even though the role's cdk-nag
 * IAM5[Resource::*] acknowledgement would silence it.
 */
const STAR_ALLOWED: Record<string, { holders: RegExp; why: string }> = {
  // every traced function and the traced state machine send their segments
  'xray:PutTraceSegments': {
    holders: /^(\w+Function|DeployPipelineStateMachine)Role/,
    why: 'no resource type',
  },
  'xray:PutTelemetryRecords': {
    holders: /^(\w+Function|DeployPipelineStateMachine)Role/,
    why: 'no resource type',
  },
  // the state machine's X-Ray sampling, added by CDK for tracingEnabled
  'xray:GetSamplingRules': { holders: /^DeployPipelineStateMachineRole/, why: 'no resource type' },
  'xray:GetSamplingTargets': { holders: /^DeployPipelineStateMachineRole/, why: 'no resource type' },
  // Step Functions' log delivery to CloudWatch Logs (logging level ALL): the vended-logs API has no ARNs
  'logs:CreateLogDelivery': { holders: /^DeployPipelineStateMachineRole/, why: 'vended logs, no ARN' },
  'logs:GetLogDelivery': { holders: /^DeployPipelineStateMachineRole/, why: 'vended logs, no ARN' },
  'logs:UpdateLogDelivery': { holders: /^DeployPipelineStateMachineRole/, why: 'vended logs, no ARN' },
  'logs:DeleteLogDelivery': { holders: /^DeployPipelineStateMachineRole/, why: 'vended logs, no ARN' },
  'logs:ListLogDeliveries': { holders: /^DeployPipelineStateMachineRole/, why: 'vended logs, no ARN' },
  'logs:PutResourcePolicy': { holders: /^DeployPipelineStateMachineRole/, why: 'vended logs, no ARN' },
  'logs:DescribeResourcePolicies': { holders: /^DeployPipelineStateMachineRole/, why: 'vended logs, no ARN' },
  'logs:DescribeLogGroups': { holders: /^DeployPipelineStateMachineRole/, why: 'list action, no ARN' },
  // the status reports read error rate, p99 and health metrics; GetMetricData takes no resource
  'cloudwatch:GetMetricData': { holders: /^ReportStatusFunctionRole/, why: 'no resource type' },
  // the health probe publishes its results; bounded by the cloudwatch:namespace condition (asserted below)
  'cloudwatch:PutMetricData': { holders: /^HealthProbeFunctionRole/, why: 'no resource type' },
};

type Grant = { holder: string; statement: Statement };

/** Every Allow statement of every identity policy: policies, managed policies and roles' inline policies. */
const identityGrants = (template: Template): Grant[] => {
  type Properties = {
    PolicyDocument?: { Statement: Statement[] };
    Policies?: { PolicyDocument: { Statement: Statement[] } }[];
  };
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: Properties }>;
  return Object.entries(resources).flatMap(([id, r]) => {
    const documents =
      r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy'
        ? [r.Properties.PolicyDocument ?? { Statement: [] }]
        : r.Type === 'AWS::IAM::Role'
          ? (r.Properties.Policies ?? []).map((p) => p.PolicyDocument)
          : [];
    return documents.flatMap((d) =>
      d.Statement.filter((s) => s.Effect === 'Allow').map((statement) => ({ holder: id, statement })),
    );
  });
};

const actionsOf = (s: Statement) => [s.Action].flat();
const resourcesOf = (s: Statement) => [s.Resource].flat();
/** `ReportStatusFunctionRoleDefaultPolicy1A2B3C4D` → `ReportStatusFunction`. */
const functionOf = (holder: string) => holder.replace(/Role.*$/, '');

/** The functions (by logical id prefix) holding `action` on any resource. */
const holdersOf = (grants: Grant[], action: string) =>
  [
    ...new Set(
      grants.filter((g) => actionsOf(g.statement).includes(action)).map((g) => functionOf(g.holder)),
    ),
  ].sort();

/**
 * The ports each function's handler wires (`awsPorts({ tracker: …, notifier: … })`), keyed by its
 * logical id: the grants are checked against what the code can use, not against a second hand-kept list.
 */
const portsByFunction = (): Record<string, string[]> => {
  const dirs = readdirSync(resolve(PROJECT_ROOT, 'functions'), { withFileTypes: true }).filter(
    (d) => d.isDirectory() && d.name !== 'shared',
  );
  return Object.fromEntries(
    dirs.map((d) => {
      const source = readFileSync(resolve(PROJECT_ROOT, 'functions', d.name, 'handler.ts'), 'utf8');
      const call = source.match(/awsPorts\(\{([\s\S]*?)\}\)/)?.[1] ?? '';
      const ports = [...call.matchAll(/(\w+):/g)].map((m) => m[1] as string);
      return [d.name.replaceAll('-', '').toLowerCase(), ports];
    }),
  );
};
const PORTS = portsByFunction();
const functionsWithPort = (template: Template, port: string) =>
  Object.keys(template.findResources('AWS::Lambda::Function'))
    .map((id) => id.replace(/[0-9A-F]{8}$/, ''))
    .filter((fn) => PORTS[fn.replace(/Function$/, '').toLowerCase()]?.includes(port))
    .sort();

/** Every cdk-nag acknowledgement in the construct tree, as `{ path, id, reason }`. */
const acknowledgements = (stack: DevopsAgentStack) =>
  stack.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((m) =>
        Object.entries(m.data as Record<string, string>).map(([id, reason]) => ({
          path: c.node.path,
          id,
          reason,
        })),
      ),
  );

describe.each(Object.entries(CONFIGS))('least privilege (%s config)', (_name, configFile) => {
  let stack: DevopsAgentStack;
  let template: Template;
  let grants: Grant[];

  beforeAll(() => {
    stack = buildStack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), configFile);
    template = Template.fromStack(stack);
    grants = identityGrants(template);
  });

  it('grants no "*" or "service:*" action to any role', () => {
    // Act
    const wildcards = grants.filter((g) => actionsOf(g.statement).some((a) => a === '*' || /:\*$/.test(a)));

    // Assess
    expect(wildcards).toEqual([]);
  });

  it('grants on Resource "*" only the allow-listed actions that have no resource-level permissions, each to its own roles', () => {
    // Act
    const onStar = grants.filter((g) => resourcesOf(g.statement).includes('*'));

    // Assess
    expect(onStar.length).toBeGreaterThan(0);
    const outside = onStar.flatMap((g) =>
      actionsOf(g.statement)
        .filter((a) => !STAR_ALLOWED[a]?.holders.test(g.holder))
        .map((a) => `${a} @ ${g.holder}`),
    );
    expect(outside).toEqual([]);
  });

  it('limits cloudwatch:PutMetricData on "*" to the health namespace', () => {
    // Act
    const puts = grants.filter((g) => actionsOf(g.statement).includes('cloudwatch:PutMetricData'));

    // Assess
    for (const g of puts) {
      expect(g.statement.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': expect.any(String) } });
    }
  });

  it('lets only the functions wiring the notifier send mail, and only from the agent identity', () => {
    // Act
    const senders = holdersOf(grants, 'ses:SendEmail');
    const resources = grants
      .filter((g) => actionsOf(g.statement).some((a) => a.startsWith('ses:')))
      .flatMap((g) => resourcesOf(g.statement).map(templateText));

    // Assess
    expect(senders).toEqual(functionsWithPort(template, 'notifier'));
    expect(senders.length).toBeGreaterThan(0);
    expect(
      resources.every((r) => /:ses:<AWS::Region>:<AWS::AccountId>:identity\/<MailFrom\w+>$/.test(r)),
    ).toBe(true);
  });

  it('lets only the function reading metrics (ReportStatus) call cloudwatch:GetMetricData', () => {
    // Assess
    expect(holdersOf(grants, 'cloudwatch:GetMetricData')).toEqual(functionsWithPort(template, 'readings'));
    expect(holdersOf(grants, 'cloudwatch:GetMetricData')).toEqual(['ReportStatusFunction']);
  });

  it('lets only the webhook, approval, alarm, sweep and poll functions start executions or answer task tokens, on the state machine only', () => {
    // Prepare
    const edge = [
      'AlarmEventFunction',
      'ApprovalPageFunction',
      'ClickUpWebhookFunction',
      'MonitorSweepFunction',
      'PollTasksFunction',
    ];
    const stateActions = [
      'states:StartExecution',
      'states:SendTaskSuccess',
      'states:SendTaskFailure',
      'states:SendTaskHeartbeat',
    ];

    // Act
    const holders = [...new Set(stateActions.flatMap((a) => holdersOf(grants, a)))].sort();
    const resources = grants
      .filter((g) => actionsOf(g.statement).some((a) => stateActions.includes(a)))
      .flatMap((g) => resourcesOf(g.statement).map(templateText));

    // Assess
    expect(holders).toEqual(edge);
    expect(holders).toEqual(functionsWithPort(template, 'workflow'));
    expect(holdersOf(grants, 'states:StartExecution')).toEqual([
      'ClickUpWebhookFunction',
      'PollTasksFunction',
    ]);
    expect(new Set(resources)).toEqual(new Set([expect.stringMatching(/^<DeployPipelineStateMachine\w+>$/)]));
  });

  it('lets only the functions wiring the artifact store write to the bucket, each under its own prefix', () => {
    // Act
    const writes = grants
      .filter((g) => actionsOf(g.statement).includes('s3:PutObject'))
      .flatMap((g) =>
        resourcesOf(g.statement).map((r) => ({ fn: functionOf(g.holder), resource: templateText(r) })),
      )
      .filter((w) => w.resource.includes('"Artifacts'));

    // Assess
    expect([...new Set(writes.map((w) => w.fn))].sort()).toEqual(functionsWithPort(template, 'artifacts'));
    for (const w of writes) {
      expect(w.resource.endsWith(w.fn === 'CreatePlanFunction' ? '/plans/*' : '/records/*')).toBe(true);
    }
    // no statement grants object writes on the whole bucket
    expect(writes.filter((w) => /"Arn"\]\}\/\*$/.test(w.resource))).toEqual([]);
  });

  it('lets each secret be read only by the functions wiring the port that uses it', () => {
    // Prepare: the functions allowed secretsmanager:GetSecretValue on a secret, by the secret's name
    const readers = (secret: RegExp) =>
      [
        ...new Set(
          grants
            .filter((g) => actionsOf(g.statement).includes('secretsmanager:GetSecretValue'))
            .filter((g) =>
              resourcesOf(g.statement)
                .map(templateText)
                .some((r) => secret.test(r)),
            )
            .map((g) => functionOf(g.holder)),
        ),
      ].sort();

    // Assess
    expect(readers(/secret:devops-agent\/clickup-token-/)).toEqual(functionsWithPort(template, 'tracker'));
    expect(readers(/secret:devops-agent\/github-token-/)).toEqual(
      functionsWithPort(template, 'sourceControl'),
    );
    expect(readers(/^<ApprovalKeys\w+>$/)).toEqual(functionsWithPort(template, 'approvalKeys'));
    expect(readers(/secret:devops-agent\/clickup-webhook-secret-/)).toEqual(['ClickUpWebhookFunction']);
  });

  it('grants no administrative action: no IAM, no deleting or reconfiguring the table, bucket, secrets, functions or state machine', () => {
    // Act
    const administrative = grants.flatMap((g) =>
      actionsOf(g.statement)
        .filter((a) =>
          /^(iam|organizations|sts|kms):|^dynamodb:(Create|Delete|Update)Table|^s3:(DeleteBucket|PutBucket|PutLifecycle|PutEncryption)|^secretsmanager:(Put|Update|Delete|Create|Restore|Rotate)|^lambda:(Create|Delete|Update|Add|Remove|Put)|^states:(Create|Delete|Update)StateMachine/.test(
            a,
          ),
        )
        .map((a) => `${a} @ ${g.holder}`),
    );
    const deletesDocuments = grants.filter(
      (g) =>
        actionsOf(g.statement).some((a) => a === 's3:DeleteObject') &&
        resourcesOf(g.statement)
          .map(templateText)
          .some((r) => r.includes('"Artifacts')),
    );

    // Assess
    expect(administrative).toEqual([]);
    // plans and records are evidence: nothing may delete them
    expect(deletesDocuments).toEqual([]);
  });

  it('throttles the webhook and approval routes with a rate and a burst limit', () => {
    // Prepare
    const [stage] = Object.values(template.findResources('AWS::ApiGateway::Stage'));
    const settings = (stage?.Properties.MethodSettings ?? []) as {
      ResourcePath: string;
      HttpMethod: string;
      ThrottlingRateLimit?: number;
      ThrottlingBurstLimit?: number;
    }[];
    // a method setting's path is the route with "/" escaped as "~1"; "/*" applies to every route
    const effective = (path: string, method: string) =>
      settings.filter(
        (s) =>
          (s.ResourcePath === '/*' || s.ResourcePath === path.replaceAll('/', '~1')) &&
          (s.HttpMethod === '*' || s.HttpMethod === method),
      );

    // Act
    const routes = [
      ['/webhooks/clickup', 'POST'],
      ['/approvals/{id}', 'GET'],
      ['/approvals/{id}', 'POST'],
    ].map(([path, method]) => effective(path as string, method as string));

    // Assess
    for (const route of routes) {
      expect(route.length).toBeGreaterThan(0);
      for (const s of route) {
        expect(s.ThrottlingRateLimit).toBeGreaterThan(0);
        expect(s.ThrottlingBurstLimit).toBeGreaterThan(0);
        expect(s.ThrottlingBurstLimit).toBeGreaterThanOrEqual(s.ThrottlingRateLimit as number);
      }
    }
  });

  it('has no unacknowledged cdk-nag AwsSolutions finding', () => {
    // Assess
    expect(unacknowledgedNagFindings(stack)).toEqual([]);
  });

  it('gives every cdk-nag acknowledgement a reason of at least 40 characters', () => {
    // Act
    const acks = acknowledgements(stack);

    // Assess
    expect(acks.length).toBeGreaterThan(0);
    expect(acks.filter((a) => a.reason.trim().length < 40)).toEqual([]);
  });

  it('names, in the Resource::* acknowledgements of each role, every action that role holds on "*"', () => {
    // Prepare: a role's `*` actions against the reasons given for its IAM5[Resource::*] acknowledgements
    const reasonsByRole = new Map<string, string>();
    for (const a of acknowledgements(stack).filter((a) => a.id.endsWith('AwsSolutions-IAM5[Resource::*]'))) {
      const role = a.path.replace(/^[^/]+\//, '').replace(/\/(Role|StateMachine\/Role)$/, '');
      reasonsByRole.set(role, `${reasonsByRole.get(role) ?? ''} ${a.reason}`);
    }

    // Act
    const unexplained = grants
      .filter((g) => resourcesOf(g.statement).includes('*'))
      .flatMap((g) => {
        const role = functionOf(g.holder).replace(/StateMachine$/, '');
        const reasons = reasonsByRole.get(role) ?? '';
        // "logs:CreateLogDelivery, …" stands for the log-delivery family, as the reason says
        return actionsOf(g.statement)
          .filter((a) => !reasons.includes(a.split(':')[1] as string) && !reasons.includes(a))
          .filter((a) => !(a.startsWith('logs:') && reasons.includes('CloudWatch Logs delivery')))
          .filter((a) => !(a.startsWith('xray:') && reasons.includes('X-Ray')))
          .map((a) => `${a} @ ${role}`);
      });

    // Assess
    expect(unexplained).toEqual([]);
  });
});

import {
  ClickUpSetupIncompleteError,
  clickupSetup,
  EndpointSchema,
  formatReport,
  publicReport,
  type SetupClient,
  TeamIdSchema,
} from '../../../cli/clickup-setup.js';
import type {
  ClickUpList,
  ClickUpWebhook,
  CreateWebhookInput,
  UpdateWebhookInput,
} from '../../../functions/shared/adapters/clickup-client.js';
import { parseConfig } from '../../../functions/shared/config/load.js';
import { BadRequestError, NotFoundError } from '../../../functions/shared/errors.js';

const ENDPOINT = 'https://agent.example.com/webhooks/clickup';
const EVENTS = ['taskStatusUpdated', 'taskCommentPosted'];
const ALL = ['to do', 'ready to deploy', 'deploying', 'deployed', 'rolled back'];

const CONFIG = parseConfig(
  `
devops_agent:
  deploying_status: Deploying
  failure_status: Rolled Back
services:
  - name: notifications
    approvers: [{ email: lead@example.com }]
    tracker: { list_id: "901" }
    steps: [{ name: Go, kind: command, run: [node, -e, "0"] }]
  - name: notifications
    environment: staging
    approvers: [{ email: lead@example.com }]
    tracker: { list_id: "901", output_status: On Staging }
    steps: [{ name: Go, kind: command, run: [node, -e, "0"] }]
  - name: billing
    approvers: [{ email: lead@example.com }]
    tracker: { list_id: "902" }
    steps: [{ name: Go, kind: command, run: [node, -e, "0"] }]
`,
  'cli-unit.yaml',
);

/** An in-memory ClickUp that records every call by name. */
const memoryClickUp = (lists: Record<string, { name: string; statuses: string[] }>) => {
  const calls: string[] = [];
  const webhooks = new Map<string, ClickUpWebhook>();
  let sequence = 0;
  const client: SetupClient = {
    getList: async (id: string): Promise<ClickUpList> => {
      calls.push(`getList ${id}`);
      const list = lists[id];
      if (!list) throw new NotFoundError(`ClickUp GET /v2/list/${id} answered 404`);
      return { id, name: list.name, statuses: list.statuses.map((status) => ({ status })) };
    },
    listWebhooks: async (teamId: string) => {
      calls.push(`listWebhooks ${teamId}`);
      return [...webhooks.values()].map((w) => ({ ...w }));
    },
    createWebhook: async (_teamId: string, input: CreateWebhookInput) => {
      calls.push(`createWebhook ${input.list_id}`);
      const webhook: ClickUpWebhook = {
        id: `wh-${++sequence}`,
        endpoint: input.endpoint,
        events: input.events,
        list_id: String(input.list_id),
        health: { status: 'active', fail_count: 0 },
        secret: `secret-${sequence}`,
      };
      webhooks.set(webhook.id, webhook);
      return webhook;
    },
    updateWebhook: async (id: string, input: UpdateWebhookInput) => {
      calls.push(`updateWebhook ${id}`);
      const webhook = webhooks.get(id) as ClickUpWebhook;
      Object.assign(webhook, { events: input.events, health: { status: 'active', fail_count: 0 } });
      const { secret: _hidden, ...shown } = webhook;
      return shown;
    },
    deleteWebhook: async (id: string) => {
      calls.push(`deleteWebhook ${id}`);
      webhooks.delete(id);
    },
  };
  return { client, calls, webhooks };
};

const releases = { name: 'Releases', statuses: [...ALL, 'on staging'] };
const billing = { name: 'Billing', statuses: ALL };

describe('clickupSetup', () => {
  it('compares the configured statuses without case, once per list for all its services', async () => {
    // Prepare
    const clickup = memoryClickUp({
      '901': { name: 'Releases', statuses: ['Ready To Deploy', 'deployed', 'DEPLOYING'] },
      '902': billing,
    });

    // Act
    const report = await clickupSetup({
      client: clickup.client,
      config: CONFIG,
      teamId: '9001',
      endpoint: ENDPOINT,
      stored: { webhooks: {} },
      dryRun: false,
    });

    // Assess
    expect(report.lists[0]).toMatchObject({
      listId: '901',
      name: 'Releases',
      services: ['notifications/production', 'notifications/staging'],
      present: ['Ready to Deploy', 'Deploying', 'Deployed'],
      missing: ['Rolled Back', 'On Staging'],
    });
    expect(report.problems).toEqual([
      'list 901 "Releases": missing status "Rolled Back" (failure_status) — add it in ClickUp: List settings → Statuses',
      'list 901 "Releases": missing status "On Staging" (output_status) — add it in ClickUp: List settings → Statuses',
    ]);
    expect(report.registered).toBe(false);
    expect(clickup.calls).toEqual(['getList 901', 'getList 902']);
  });

  it('registers anyway with skipStatusCheck, keeping the missing statuses as warnings', async () => {
    // Prepare
    const clickup = memoryClickUp({ '901': { name: 'Releases', statuses: ALL }, '902': billing });

    // Act
    const report = await clickupSetup({
      client: clickup.client,
      config: CONFIG,
      teamId: '9001',
      endpoint: ENDPOINT,
      stored: { webhooks: {} },
      dryRun: false,
      skipStatusCheck: true,
    });

    // Assess
    expect(report.problems).toEqual([]);
    expect(report.warnings).toEqual([expect.stringContaining('missing status "On Staging"')]);
    expect(report.lists.map((l) => l.webhook?.action)).toEqual(['created', 'created']);
  });

  it('reports a list ClickUp does not know as a problem and registers nothing', async () => {
    // Prepare
    const clickup = memoryClickUp({ '901': releases });

    // Act
    const report = await clickupSetup({
      client: clickup.client,
      config: CONFIG,
      teamId: '9001',
      endpoint: ENDPOINT,
      stored: { webhooks: {} },
      dryRun: false,
    });

    // Assess
    expect(report.problems).toEqual([expect.stringMatching(/^list 902: ClickUp does not know it/)]);
    expect(clickup.calls).not.toContain('listWebhooks 9001');
  });

  it('refuses a list id that is not a ClickUp id before calling ClickUp', async () => {
    // Prepare
    const clickup = memoryClickUp({});
    const config = parseConfig(
      'services: [{ name: app, approvers: [{ email: lead@example.com }], tracker: { list_id: demo-list }, steps: [{ name: Go, kind: command, run: [x] }] }]',
      'demo.yaml',
    );

    // Act
    const setup = clickupSetup({
      client: clickup.client,
      config,
      teamId: '9001',
      endpoint: ENDPOINT,
      stored: { webhooks: {} },
      dryRun: false,
    });

    // Assess
    await expect(setup).rejects.toThrow(BadRequestError);
    await expect(setup).rejects.toThrow('tracker.list_id "demo-list" (app) is not a ClickUp list id');
    expect(clickup.calls).toEqual([]);
  });

  it('creates one webhook per list, then finds them unchanged with the secrets it stored', async () => {
    // Prepare
    const clickup = memoryClickUp({ '901': releases, '902': billing });
    const input = {
      client: clickup.client,
      config: CONFIG,
      teamId: '9001',
      endpoint: ENDPOINT,
      dryRun: false,
    };

    // Act
    const first = await clickupSetup({ ...input, stored: { webhooks: {} } });
    clickup.calls.length = 0;
    const second = await clickupSetup({ ...input, stored: first.secrets });

    // Assess
    expect(first.lists.map((l) => l.webhook)).toEqual([
      { action: 'created', id: 'wh-1' },
      { action: 'created', id: 'wh-2' },
    ]);
    expect(first.secrets).toEqual({
      webhooks: {
        'wh-1': { list_id: '901', secret: 'secret-1' },
        'wh-2': { list_id: '902', secret: 'secret-2' },
      },
    });
    expect(first.secretsChanged).toBe(true);
    expect([...clickup.webhooks.values()].map((w) => w.events)).toEqual([EVENTS, EVENTS]);
    expect(second.lists.map((l) => l.webhook?.action)).toEqual(['unchanged', 'unchanged']);
    expect(second.secretsChanged).toBe(false);
    expect(clickup.calls).toEqual(['getList 901', 'getList 902', 'listWebhooks 9001']);
  });

  it('updates a webhook of ours whose events differ, keeping its stored secret', async () => {
    // Prepare
    const clickup = memoryClickUp({ '901': releases, '902': billing });
    const input = {
      client: clickup.client,
      config: CONFIG,
      teamId: '9001',
      endpoint: ENDPOINT,
      dryRun: false,
    };
    const first = await clickupSetup({ ...input, stored: { webhooks: {} } });
    (clickup.webhooks.get('wh-2') as ClickUpWebhook).events = ['taskStatusUpdated'];

    // Act
    const second = await clickupSetup({ ...input, stored: first.secrets });

    // Assess
    expect(second.lists.map((l) => l.webhook?.action)).toEqual(['unchanged', 'updated']);
    expect(clickup.webhooks.get('wh-2')?.events).toEqual(EVENTS);
    expect(second.secrets).toEqual(first.secrets);
  });

  it('recreates a webhook whose secret it does not hold and drops secrets of webhooks that are gone', async () => {
    // Prepare
    const clickup = memoryClickUp({ '901': releases, '902': billing });
    const input = {
      client: clickup.client,
      config: CONFIG,
      teamId: '9001',
      endpoint: ENDPOINT,
      dryRun: false,
    };
    const first = await clickupSetup({ ...input, stored: { webhooks: {} } });
    const stored = {
      webhooks: {
        'wh-1': first.secrets.webhooks['wh-1'] as { list_id: string; secret: string },
        'wh-gone': { list_id: '901', secret: 'old' },
      },
    };

    // Act
    const second = await clickupSetup({ ...input, stored });

    // Assess
    expect(second.lists.map((l) => l.webhook)).toEqual([
      { action: 'unchanged', id: 'wh-1' },
      { action: 'recreated', id: 'wh-3', replaced: 'wh-2' },
    ]);
    expect(Object.keys(second.secrets.webhooks).sort()).toEqual(['wh-1', 'wh-3']);
    expect(clickup.calls.slice(-2)).toEqual(['deleteWebhook wh-2', 'createWebhook 902']);
  });

  it('leaves webhooks to other endpoints alone and keeps their stored secrets', async () => {
    // Prepare
    const clickup = memoryClickUp({ '901': releases, '902': billing });
    const old = await clickupSetup({
      client: clickup.client,
      config: CONFIG,
      teamId: '9001',
      endpoint: 'https://old.example.com/webhooks/clickup',
      stored: { webhooks: {} },
      dryRun: false,
    });

    // Act
    const report = await clickupSetup({
      client: clickup.client,
      config: CONFIG,
      teamId: '9001',
      endpoint: ENDPOINT,
      stored: old.secrets,
      dryRun: false,
    });

    // Assess
    expect(report.lists.map((l) => l.webhook?.action)).toEqual(['created', 'created']);
    expect(clickup.webhooks.size).toBe(4);
    expect(Object.keys(report.secrets.webhooks).sort()).toEqual(['wh-1', 'wh-2', 'wh-3', 'wh-4']);
  });

  it('says what it would do on a dry run and only reads', async () => {
    // Prepare
    const clickup = memoryClickUp({ '901': releases, '902': billing });
    const input = { client: clickup.client, config: CONFIG, teamId: '9001', endpoint: ENDPOINT };
    const first = await clickupSetup({ ...input, stored: { webhooks: {} }, dryRun: false });
    (clickup.webhooks.get('wh-1') as ClickUpWebhook).health = { status: 'suspended', fail_count: 0 };
    clickup.calls.length = 0;

    // Act
    const report = await clickupSetup({
      ...input,
      stored: { webhooks: { 'wh-1': first.secrets.webhooks['wh-1'] as { list_id: string; secret: string } } },
      dryRun: true,
    });

    // Assess
    expect(report.lists.map((l) => l.webhook)).toEqual([
      { action: 'would update', id: 'wh-1' },
      { action: 'would recreate', replaced: 'wh-2' },
    ]);
    expect(report.registered).toBe(false);
    expect(clickup.calls).toEqual(['getList 901', 'getList 902', 'listWebhooks 9001']);
  });

  it('hands back the secrets of the webhooks created before a failure', async () => {
    // Prepare
    const clickup = memoryClickUp({ '901': releases, '902': billing });
    const create = clickup.client.createWebhook;
    clickup.client.createWebhook = async (teamId, input) => {
      if (input.list_id === 902) throw new Error('ClickUp POST /v2/team/9001/webhook answered 400');
      return create(teamId, input);
    };

    // Act
    const setup = clickupSetup({
      client: clickup.client,
      config: CONFIG,
      teamId: '9001',
      endpoint: ENDPOINT,
      stored: { webhooks: {} },
      dryRun: false,
    });

    // Assess
    const error = (await setup.catch((e: unknown) => e)) as ClickUpSetupIncompleteError;
    expect(error).toBeInstanceOf(ClickUpSetupIncompleteError);
    expect(error.message).toBe('list 902: ClickUp POST /v2/team/9001/webhook answered 400');
    expect(error.secrets).toEqual({ webhooks: { 'wh-1': { list_id: '901', secret: 'secret-1' } } });
  });
});

describe('the clickup setup report', () => {
  it('prints one line per list and keeps the secrets out of the JSON form', async () => {
    // Prepare
    const clickup = memoryClickUp({ '901': releases, '902': billing });
    const report = await clickupSetup({
      client: clickup.client,
      config: CONFIG,
      teamId: '9001',
      endpoint: ENDPOINT,
      stored: { webhooks: {} },
      dryRun: false,
    });

    // Act
    const text = formatReport(report, { path: '/tmp/secret', written: true });
    const json = JSON.stringify(publicReport(report));

    // Assess
    expect(text).toContain(
      '  list 901 "Releases" (notifications/production, notifications/staging)\n    statuses ok: Ready to Deploy, Deploying, Deployed, Rolled Back, On Staging\n    webhook created (wh-1)\n',
    );
    expect(text).toContain('webhook created (wh-2)');
    expect(text).toContain('Secrets written to /tmp/secret (mode 0600).');
    expect(json).not.toContain('secret-1');
    expect(json).toContain('"action":"created"');
  });
});

describe('the endpoint and team arguments', () => {
  it.each([
    ['https://agent.example.com/webhooks/clickup', true],
    ['http://127.0.0.1:4000/webhooks/clickup', true],
    ['http://localhost:4000/webhooks/clickup', true],
    ['http://agent.example.com/webhooks/clickup', false],
    ['ftp://agent.example.com/', false],
    ['agent.example.com/webhooks/clickup', false],
  ])('checks the endpoint %s (valid: %s)', (endpoint, ok) => {
    // Act
    const parsed = EndpointSchema.safeParse(endpoint);

    // Assess
    expect(parsed.success).toBe(ok);
    if (!ok) expect(parsed.error?.issues[0]?.message).toContain('--endpoint must be an https URL');
  });

  it('accepts a workspace id of digits only', () => {
    // Act and assess
    expect(TeamIdSchema.safeParse('9001').success).toBe(true);
    expect(TeamIdSchema.safeParse('acme').error?.issues[0]?.message).toContain('digits only');
    expect(TeamIdSchema.safeParse(undefined).error?.issues[0]?.message).toContain('CLICKUP_TEAM_ID');
  });
});

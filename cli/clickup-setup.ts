import * as z from 'zod';
import type { ClickUpClient, ClickUpWebhook } from '../functions/shared/adapters/clickup-client.js';
import { settingsFor } from '../functions/shared/config/resolve.js';
import type { Config } from '../functions/shared/config/schema.js';
import { BadRequestError, NotFoundError } from '../functions/shared/errors.js';
import type { WebhookSecrets } from '../functions/shared/webhook-secrets.js';

/** What every webhook `clickup setup` registers listens to: status moves and `/deploy` comments. */
export const WEBHOOK_EVENTS = ['taskStatusUpdated', 'taskCommentPosted'] as const;

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** `--endpoint`: https, or http for this machine only (ClickUp delivers to public https endpoints). */
export const EndpointSchema = z
  .string({ error: '--endpoint is required: the URL ClickUp delivers to, ending in /webhooks/clickup' })
  .refine(
    (value) => {
      let url: URL;
      try {
        url = new URL(value);
      } catch {
        return false;
      }
      return url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK.has(url.hostname));
    },
    {
      error:
        '--endpoint must be an https URL ClickUp can reach, e.g. https://agent.example.com/webhooks/clickup (http only for 127.0.0.1 or localhost)',
    },
  );

/** A ClickUp workspace (team) id: digits. */
export const TeamIdSchema = z
  .string({
    error:
      'the workspace id is missing: pass --team ID or set CLICKUP_TEAM_ID (the number after app.clickup.com/)',
  })
  .regex(/^\d+$/, {
    error:
      '--team must be the workspace id, digits only (the number after app.clickup.com/ in a ClickUp URL)',
  });

export type WebhookAction =
  | 'created'
  | 'updated'
  | 'unchanged'
  | 'recreated'
  | 'would create'
  | 'would update'
  | 'would recreate';

/** The statuses one service needs on its list, with the config field that names each. */
interface NeededStatus {
  name: string;
  field: 'input_status' | 'deploying_status' | 'output_status' | 'failure_status';
}

export interface ListReport {
  listId: string;
  /** the list's name in ClickUp; undefined when ClickUp does not know the list */
  name?: string;
  services: string[];
  /** configured status names the list has (compared without case) */
  present: string[];
  /** configured status names the list lacks */
  missing: string[];
  /** what happened to the list's webhook; undefined when nothing was registered */
  webhook?: { action: WebhookAction; id?: string; replaced?: string };
}

export interface ClickUpSetupReport {
  teamId: string;
  endpoint: string;
  dryRun: boolean;
  lists: ListReport[];
  /** one line per problem (a missing status, an unknown list); the command then exits 1 */
  problems: string[];
  /** missing statuses that `skipStatusCheck` let through */
  warnings: string[];
  /** whether the webhooks were registered (false when a problem stopped the run first) */
  registered: boolean;
  /** the secrets to store from now on */
  secrets: WebhookSecrets;
  /** whether `secrets` differs from what was stored (so the file must be written) */
  secretsChanged: boolean;
}

export type SetupClient = Pick<
  ClickUpClient,
  'getList' | 'listWebhooks' | 'createWebhook' | 'updateWebhook' | 'deleteWebhook'
>;

export interface ClickUpSetupInput {
  client: SetupClient;
  config: Config;
  teamId: string;
  endpoint: string;
  /** the secrets stored now (empty when there is no file yet) */
  stored: WebhookSecrets;
  /** read only: report what would change, write nothing */
  dryRun: boolean;
  /** register the webhooks even when a list lacks a configured status */
  skipStatusCheck?: boolean;
}

/**
 * A ClickUp call failed part way: the webhooks created before it exist, and `secrets` holds their secrets
 * so the caller can still store them (a rerun then finds them `unchanged`).
 */
export class ClickUpSetupIncompleteError extends Error {
  constructor(
    message: string,
    readonly secrets: WebhookSecrets,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'ClickUpSetupIncompleteError';
  }
}

const sameEvents = (events: readonly string[]) =>
  events.length === WEBHOOK_EVENTS.length && WEBHOOK_EVENTS.every((e) => events.includes(e));

const neededStatuses = (config: Config, listId: string): { services: string[]; needed: NeededStatus[] } => {
  const services = config.services.filter((s) => s.tracker.list_id === listId);
  const needed: NeededStatus[] = [];
  for (const service of services) {
    const settings = settingsFor(config, service);
    const candidates: [NeededStatus['field'], string | undefined][] = [
      ['input_status', settings.inputStatus],
      ['deploying_status', settings.deployingStatus],
      ['output_status', settings.outputStatus],
      ['failure_status', settings.failureStatus],
    ];
    for (const [field, name] of candidates) {
      if (name && !needed.some((n) => n.name.toLowerCase() === name.toLowerCase())) {
        needed.push({ name, field });
      }
    }
  }
  return { services: services.map((s) => `${s.name}/${s.environment}`), needed };
};

/**
 * `devops-agent clickup setup` without its edges: checks that every configured list has the configured
 * statuses, then makes sure each list has exactly one webhook of ours to `endpoint` whose secret we hold.
 * Idempotent: a webhook with the same endpoint and list whose secret is stored is kept (`unchanged`, or
 * `updated` to our events and re-activated when suspended); one whose secret we lack is deleted and created
 * again (`recreated`: ClickUp returns a secret reliably only at creation); none is `created`. With
 * `dryRun` only GET requests are made. Webhooks to other endpoints or lists are left alone.
 */
export const clickupSetup = async (input: ClickUpSetupInput): Promise<ClickUpSetupReport> => {
  const { client, config, teamId, endpoint, stored, dryRun } = input;
  const listIds = [...new Set(config.services.map((s) => s.tracker.list_id))];
  for (const listId of listIds) {
    if (!/^\d+$/.test(listId)) {
      const services = config.services.filter((s) => s.tracker.list_id === listId).map((s) => s.name);
      throw new BadRequestError(
        `tracker.list_id "${listId}" (${services.join(', ')}) is not a ClickUp list id; use the digits after /li/ in the list's URL`,
      );
    }
  }

  // 1. statuses, read only
  const lists: ListReport[] = [];
  const problems: string[] = [];
  const warnings: string[] = [];
  for (const listId of listIds) {
    const { services, needed } = neededStatuses(config, listId);
    let list: Awaited<ReturnType<SetupClient['getList']>>;
    try {
      list = await client.getList(listId);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      lists.push({ listId, services, present: [], missing: needed.map((n) => n.name) });
      problems.push(
        `list ${listId}: ClickUp does not know it, or the token's user cannot see it — check tracker.list_id and share the list with the bot user`,
      );
      continue;
    }
    const names = new Set(list.statuses.map((s) => s.status.trim().toLowerCase()));
    const present = needed.filter((n) => names.has(n.name.trim().toLowerCase()));
    const missing = needed.filter((n) => !present.includes(n));
    lists.push({
      listId,
      name: list.name,
      services,
      present: present.map((n) => n.name),
      missing: missing.map((n) => n.name),
    });
    for (const status of missing) {
      (input.skipStatusCheck ? warnings : problems).push(
        `list ${listId} "${list.name}": missing status "${status.name}" (${status.field}) — add it in ClickUp: List settings → Statuses`,
      );
    }
  }
  if (problems.length > 0) {
    return {
      teamId,
      endpoint,
      dryRun,
      lists,
      problems,
      warnings,
      registered: false,
      secrets: stored,
      secretsChanged: false,
    };
  }

  // 2. webhooks: one per list, ours, with a secret we hold
  const existing = await client.listWebhooks(teamId);
  const deleted = new Set<string>();
  const ours: WebhookSecrets['webhooks'] = {};
  for (const report of lists) {
    const { listId } = report;
    const candidates = existing.filter(
      (w) => w.endpoint === endpoint && w.list_id !== null && String(w.list_id) === listId,
    );
    const withSecret = candidates.find((w) => stored.webhooks[w.id] !== undefined);
    try {
      if (withSecret) {
        const kept = await keep(client, withSecret, endpoint, dryRun);
        report.webhook = kept.webhook;
        // an update's answer may carry the secret; else the stored one still signs
        ours[withSecret.id] = {
          list_id: listId,
          secret: kept.secret ?? stored.webhooks[withSecret.id]?.secret ?? '',
        };
        continue;
      }
      const stale = candidates[0];
      if (dryRun) {
        report.webhook = stale
          ? { action: 'would recreate', replaced: stale.id }
          : { action: 'would create' };
        continue;
      }
      if (stale) {
        await client.deleteWebhook(stale.id);
        deleted.add(stale.id);
      }
      const created = await client.createWebhook(teamId, {
        endpoint,
        events: [...WEBHOOK_EVENTS],
        list_id: Number(listId),
      });
      if (!created.secret) {
        throw new Error(
          `ClickUp created webhook ${created.id} for list ${listId} but returned no secret; delete it in ClickUp (Settings → Webhooks) and run again`,
        );
      }
      ours[created.id] = { list_id: listId, secret: created.secret };
      report.webhook = stale
        ? { action: 'recreated', id: created.id, replaced: stale.id }
        : { action: 'created', id: created.id };
    } catch (error) {
      const message = `list ${listId}: ${error instanceof Error ? error.message : String(error)}`;
      throw new ClickUpSetupIncompleteError(message, merge(stored, ours, existing, deleted), {
        cause: error,
      });
    }
  }

  const secrets = dryRun ? stored : merge(stored, ours, existing, deleted);
  return {
    teamId,
    endpoint,
    dryRun,
    lists,
    problems,
    warnings,
    registered: !dryRun,
    secrets,
    secretsChanged: JSON.stringify(sorted(secrets)) !== JSON.stringify(sorted(stored)),
  };
};

/** A webhook of ours whose secret we hold: kept, or updated to our events and re-activated. */
const keep = async (
  client: SetupClient,
  webhook: ClickUpWebhook,
  endpoint: string,
  dryRun: boolean,
): Promise<{ webhook: NonNullable<ListReport['webhook']>; secret?: string }> => {
  const healthy = webhook.health === undefined || webhook.health.status === 'active';
  if (healthy && sameEvents(webhook.events)) return { webhook: { action: 'unchanged', id: webhook.id } };
  if (dryRun) return { webhook: { action: 'would update', id: webhook.id } };
  const updated = await client.updateWebhook(webhook.id, {
    endpoint,
    events: [...WEBHOOK_EVENTS],
    status: 'active',
  });
  return {
    webhook: { action: 'updated', id: webhook.id },
    ...(updated.secret ? { secret: updated.secret } : {}),
  };
};

/**
 * The secrets to store: ours, plus stored ones of webhooks ClickUp still has (another endpoint's, say);
 * secrets of webhooks that are gone, or that this run deleted, are dropped.
 */
const merge = (
  stored: WebhookSecrets,
  ours: WebhookSecrets['webhooks'],
  existing: ClickUpWebhook[],
  deleted: Set<string>,
): WebhookSecrets => {
  const alive = new Set(existing.map((w) => w.id));
  const kept = Object.entries(stored.webhooks).filter(([id]) => alive.has(id) && !deleted.has(id));
  return { webhooks: { ...Object.fromEntries(kept), ...ours } };
};

const sorted = (secrets: WebhookSecrets) =>
  Object.entries(secrets.webhooks)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, w]) => [id, w.list_id, w.secret]);

const describeWebhook = (webhook: NonNullable<ListReport['webhook']>) => {
  const details = [
    ...(webhook.id ? [webhook.id] : []),
    ...(webhook.replaced ? [`replaces ${webhook.replaced}`] : []),
  ];
  return `webhook ${webhook.action}${details.length > 0 ? ` (${details.join(', ')})` : ''}`;
};

/** The report as people read it: one line per list, then the problems. */
export const formatReport = (report: ClickUpSetupReport, secretFile?: { path: string; written: boolean }) => {
  const lines: string[] = [
    `ClickUp workspace ${report.teamId}, webhook endpoint ${report.endpoint}${report.dryRun ? ' (dry run: nothing is changed)' : ''}`,
  ];
  for (const list of report.lists) {
    lines.push(
      `  list ${list.listId}${list.name === undefined ? '' : ` "${list.name}"`} (${list.services.join(', ')})`,
    );
    lines.push(
      list.missing.length === 0
        ? `    statuses ok: ${list.present.join(', ')}`
        : `    missing statuses: ${list.missing.map((s) => `"${s}"`).join(', ')}`,
    );
    lines.push(`    ${list.webhook ? describeWebhook(list.webhook) : 'webhook not registered'}`);
  }
  for (const warning of report.warnings) lines.push(`⚠ ${warning}`);
  for (const problem of report.problems) lines.push(`✗ ${problem}`);
  if (report.problems.length > 0) {
    lines.push(
      `${report.dryRun ? 'Nothing would be registered' : 'Nothing was registered'}: fix the lists above and run again (--skip-status-check registers despite missing statuses).`,
    );
  }
  if (secretFile) {
    lines.push(
      secretFile.written
        ? `Secrets written to ${secretFile.path} (mode 0600).`
        : report.registered
          ? `Secrets file ${secretFile.path} is up to date.`
          : `Secrets file ${secretFile.path} not written.`,
    );
  }
  return `${lines.join('\n')}\n`;
};

/** The report without the secrets, for `--json`. */
export const publicReport = (report: ClickUpSetupReport) => {
  const { secrets: _secrets, ...rest } = report;
  return rest;
};

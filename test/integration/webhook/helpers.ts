import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseConfig } from '../../../functions/shared/config/load.js';
import type { Logger } from '../../../functions/shared/ports/index.js';
import { startLocalRuntime } from '../../../local/runtime.js';

export const ROOT = resolve(import.meta.dirname, '../../..');
export const SECRET = 'whsec-integration';
export const BOT_ID = 99;
export const APPROVER_ID = 5150;
export const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/** One service on list L1; gates off so an execution waits for approval instead of finishing at once. */
export const WEBHOOK_CONFIG = `
devops_agent:
  bot_user_id: "${BOT_ID}"
  poll_interval: 300
services:
  - name: notifications
    tracker: { list_id: L1 }
    gates: { ci: false, pr_merged: false, sign_off: [], alarms_clear: false }
    approvers: [{ email: lead@example.com, clickup_user_id: "${APPROVER_ID}" }]
    steps:
      - { name: Say hello, kind: command, run: [node, -e, "0"] }
`;

export const sign = (body: string, secret = SECRET) =>
  createHmac('sha256', secret).update(body).digest('hex');

/** A `taskStatusUpdated` delivery shaped after §1.4 of the API notes. */
export const statusEvent = (
  taskId: string,
  status: string,
  options: { userId?: number; listId?: string; itemId?: string } = {},
) =>
  JSON.stringify({
    event: 'taskStatusUpdated',
    webhook_id: '3f0c2a9e-1111-4c2b-9d7e-5a6b7c8d9e0f',
    task_id: taskId,
    history_items: [
      {
        id: options.itemId ?? '4719000000000000001',
        type: 1,
        date: '1764320000123',
        field: 'status',
        parent_id: options.listId ?? 'L1',
        data: { status_type: 'custom' },
        source: null,
        user: { id: options.userId ?? 4242, username: 'Dana', email: 'dana@example.com' },
        before: { status: 'in review', color: '#d3d3d3', orderindex: 2, type: 'custom' },
        after: { status, color: '#6bc950', orderindex: 3, type: 'custom' },
      },
    ],
  });

/** A `taskCommentPosted` delivery shaped after §1.5 of the API notes. */
export const commentEvent = (
  taskId: string,
  text: string,
  options: { userId?: number; email?: string; commentId?: string } = {},
) => {
  const userId = options.userId ?? APPROVER_ID;
  const commentId = options.commentId ?? '90150087654321';
  return JSON.stringify({
    event: 'taskCommentPosted',
    webhook_id: '3f0c2a9e-1111-4c2b-9d7e-5a6b7c8d9e0f',
    task_id: taskId,
    history_items: [
      {
        id: `47190000${commentId}`,
        type: 1,
        date: '1764320999000',
        field: 'comment',
        parent_id: 'L1',
        data: {},
        source: null,
        user: { id: userId, username: 'Alice', email: options.email ?? 'lead@example.com' },
        before: null,
        after: commentId,
        comment: {
          id: commentId,
          date: '1764320999000',
          parent: taskId,
          type: 1,
          comment: [
            { text, attributes: {} },
            { text: '\n', attributes: { 'block-id': 'block-0a1b2c3d' } },
          ],
          text_content: `${text}\n`,
          user: { id: userId, username: 'Alice' },
          reactions: [],
          threaded_replies: 0,
        },
      },
    ],
  });
};

export const loadAsl = () =>
  JSON.parse(readFileSync(join(ROOT, 'statemachine/deploy-pipeline.asl.json'), 'utf8')) as Record<
    string,
    unknown
  >;

/** The real local runtime (SQLite, the local runner, the HTTP server) on a temp folder, timers off. */
export const startRuntime = (config = WEBHOOK_CONFIG) =>
  startLocalRuntime({
    config: parseConfig(config, 'webhook-test.yaml'),
    asl: loadAsl(),
    dataDir: mkdtempSync(join(tmpdir(), 'devops-agent-webhook-')),
    baseDir: ROOT,
    sourceControlFixture: join(ROOT, 'examples/demo/fixtures/source-control.json'),
    webhookSecret: SECRET,
    logger: quiet,
    retryIntervalMs: 0,
    lockRetryMs: 5,
    timers: false,
  });

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseConfig } from '../../../functions/shared/config/load.js';
import type { Logger } from '../../../functions/shared/ports/index.js';
import { startLocalRuntime } from '../../../local/runtime.js';
import { commentEventBody, signBody, statusEventBody } from '../../fixtures/fake-clickup.js';

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

export const sign = (body: string, secret = SECRET) => signBody(body, secret);

const WEBHOOK_ID = '3f0c2a9e-1111-4c2b-9d7e-5a6b7c8d9e0f';

/** A `taskStatusUpdated` delivery shaped after §1.4 of the API notes. */
export const statusEvent = (
  taskId: string,
  status: string,
  options: { userId?: number; listId?: string; itemId?: string } = {},
) =>
  statusEventBody({
    webhookId: WEBHOOK_ID,
    taskId,
    listId: options.listId ?? 'L1',
    itemId: options.itemId ?? '4719000000000000001',
    user: { id: options.userId ?? 4242, username: 'Dana', email: 'dana@example.com' },
    before: 'in review',
    after: status,
  });

/** A `taskCommentPosted` delivery shaped after §1.5 of the API notes. */
export const commentEvent = (
  taskId: string,
  text: string,
  options: { userId?: number; email?: string; commentId?: string } = {},
) => {
  const commentId = options.commentId ?? '90150087654321';
  return commentEventBody({
    webhookId: WEBHOOK_ID,
    taskId,
    listId: 'L1',
    itemId: `47190000${commentId}`,
    commentId,
    user: {
      id: options.userId ?? APPROVER_ID,
      username: 'Alice',
      email: options.email ?? 'lead@example.com',
    },
    text,
  });
};

/** The real local runtime (SQLite, the local runner, the HTTP server) on a temp folder, timers off. */
export const startRuntime = (config = WEBHOOK_CONFIG) =>
  startLocalRuntime({
    config: parseConfig(config, 'webhook-test.yaml'),
    dataDir: mkdtempSync(join(tmpdir(), 'devops-agent-webhook-')),
    baseDir: ROOT,
    sourceControlFixture: join(ROOT, 'examples/demo/fixtures/source-control.json'),
    webhookSecret: SECRET,
    logger: quiet,
    retryIntervalMs: 0,
    lockRetryMs: 5,
    timers: false,
  });

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalTracker } from '../../local/adapters/local-tracker.js';
import { OutboxNotifier } from '../../local/adapters/outbox-notifier.js';
import { openDatabase } from '../../local/adapters/sqlite-database.js';
import { SqliteDeploymentStore } from '../../local/adapters/sqlite-deployment-store.js';
import { runDemoProcess } from '../fixtures/demo-process.js';

const DEMO_TIMEOUT_MS = 180_000;

const runDemo = (args: string[], configText?: string) =>
  runDemoProcess(args, configText ? { configText: () => configText } : {});

/** The sections every deployment record document has, in order (the rollback only after one). */
const RECORD_SECTIONS = [
  '## What was deployed',
  '## Plan',
  '## Gates',
  '## Approval',
  '## Step timings',
  '## Verification',
  '## Metrics over the bake',
  '## Outcome',
];

const recordDocument = (dataDir: string, deploymentId: string) =>
  readFileSync(join(dataDir, 'artifacts', 'records', `${deploymentId}.md`), 'utf8');

const headingsOf = (markdown: string) => markdown.split('\n').filter((l) => l.startsWith('## '));

const readState = async (dataDir: string, deploymentId: string) => {
  const db = openDatabase(join(dataDir, 'devops-agent.db'));
  try {
    const store = new SqliteDeploymentStore(db);
    const tracker = new LocalTracker(db);
    const record = await store.getDeployment(deploymentId);
    const task = record ? await tracker.getTask(record.taskId) : undefined;
    const comments = task ? (await tracker.getComments(task.id)).map((c) => c.text) : [];
    const mails = await new OutboxNotifier(db, () => undefined).list();
    return { record, task, comments, mails, audit: await store.listAudit(deploymentId) };
  } finally {
    db.close();
  }
};

describe('npm start (the demo)', () => {
  it(
    'deploys v2 and sets the task to Deployed in the good scenario',
    async () => {
      // Act
      const run = await runDemo(['--scenario', 'good', '--bake', '12s', '--report-interval', '5s']);

      // Assess
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
      expect(run.summary).toMatchObject({ outcome: 'deployed', servedVersion: 'v2' });
      const state = await readState(run.dataDir, run.summary?.deploymentId ?? '');
      expect(state.task?.status).toBe('Deployed');
      expect(state.record).toMatchObject({
        status: 'deployed',
        approval: { decision: 'approved', channel: 'link' },
      });
      expect(state.record?.steps.every((s) => s.status === 'succeeded')).toBe(true);
      expect(state.record?.monitoring?.reports.length).toBeGreaterThanOrEqual(2);
      expect(state.comments[0]).toMatch(/^🚀 DevOps: Preparing deployment of User Notifications/);
      expect(state.comments.some((c) => c.startsWith('# Deployment Plan: User Notifications'))).toBe(true);
      expect(state.comments.some((c) => c.includes('PRODUCTION DEPLOY READY'))).toBe(true);
      expect(state.comments.some((c) => c.startsWith('📊 Deployment Status Update'))).toBe(true);
      expect(state.comments.at(-1)).toMatch(/^✅ DEPLOYED TO PRODUCTION/);
      expect(state.mails[0]?.text).toContain('/approvals/');
      expect(state.audit.map((a) => a.action)).toContain('approved');
      expect(run.stdout).toContain('🔗 Approval link');
      const document = recordDocument(run.dataDir, run.summary?.deploymentId ?? '');
      expect(headingsOf(document)).toEqual([...RECORD_SECTIONS, '## Follow-ups']);
      expect(document).toContain('- Release: **v2**');
      expect(document).toMatch(/- Merged: 2026-11-27T16:42:00Z \(lead time to Deployed: .+\)/);
      expect(state.record?.release).toMatchObject({ prNumber: 42, mergedAt: '2026-11-27T16:42:00Z' });
      expect(state.comments.at(-1)).toContain(`/artifacts/records/${run.summary?.deploymentId}.md`);
    },
    DEMO_TIMEOUT_MS,
  );

  it(
    'rolls back to v1 and reports the root cause in the bad-release scenario',
    async () => {
      // Act
      const run = await runDemo(['--scenario', 'bad-release', '--bake', '60s', '--report-interval', '20s']);

      // Assess
      expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
      expect(run.summary).toMatchObject({ outcome: 'rolled-back', servedVersion: 'v1' });
      const state = await readState(run.dataDir, run.summary?.deploymentId ?? '');
      expect(state.task?.status).toBe('Deploy Failed');
      expect(state.record?.status).toBe('rolled-back');
      expect(state.record?.rollback?.steps.some((s) => s.status === 'rolled-back')).toBe(true);
      const report = state.comments.at(-1) ?? '';
      expect(report).toMatch(/^❌ DEPLOYMENT FAILED/);
      expect(report).toContain('Failed at: post-deploy monitoring');
      expect(report).toContain('Automatic rollback completed successfully.');
      expect(report).toMatch(/Root cause: .*(error rate|health)/);
      expect(report).toMatch(/Rollback started \d+s after the first breaching datapoint\./);
      const firstBreachAt = Date.parse(state.record?.monitoring?.firstBreachAt ?? '');
      const rollbackStartedAt = Date.parse(state.record?.rollback?.startedAt ?? '');
      expect(state.record?.rollback?.reactionMs).toBe(rollbackStartedAt - firstBreachAt);
      expect(state.record?.rollback?.reactionMs).toBeGreaterThan(0);
      const document = recordDocument(run.dataDir, run.summary?.deploymentId ?? '');
      expect(headingsOf(document)).toEqual([...RECORD_SECTIONS, '## Rollback', '## Follow-ups']);
      expect(document).toMatch(/- \[ \] Find the cause of ".+" before redeploying v2-bad\./);
      expect(report).toContain(`/artifacts/records/${run.summary?.deploymentId}.md`);
    },
    DEMO_TIMEOUT_MS,
  );

  it('refuses a malformed configuration, naming file and line, and starts nothing', async () => {
    // Act
    const run = await runDemo(
      ['--scenario', 'good'],
      'services:\n  - name: notifications\n    tracker: { list_id: demo }\n    steps:\n      - name: Deploy\n        kind: helm\n',
    );

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(
      /devops-agent\.yaml:6:\d+ +services\[0\]\.steps\[0\]\.kind: unknown step kind/,
    );
    expect(run.stdout).not.toContain('Sample service');
  });

  it('refuses an unknown scenario with the usage', async () => {
    // Act
    const run = await runDemo(['--scenario', 'chaos']);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--scenario: scenario must be "good" or "bad-release"');
  });
});

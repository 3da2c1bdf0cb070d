import { OutboxNotifier } from '../../../local/adapters/outbox-notifier.js';
import { type Database, openDatabase } from '../../../local/adapters/sqlite-database.js';
import { FakeClock } from '../../fixtures/fakes.js';

describe('OutboxNotifier', () => {
  let db: Database;

  beforeEach(() => {
    db = openDatabase(':memory:');
  });

  afterEach(() => {
    db.close();
  });

  it('keeps every mail in order and prints one line per mail without the body', async () => {
    // Prepare
    const lines: string[] = [];
    const outbox = new OutboxNotifier(db, (line) => lines.push(line), new FakeClock());

    // Act
    await outbox.send({
      to: ['demo@example.com'],
      subject: 'Approve: User Notifications to production',
      text: 'Review the plan: http://127.0.0.1:4000/approvals/apr-secret',
      html: '<p>Review</p>',
    });
    await outbox.send({ to: ['a@example.com', 'b@example.com'], subject: 'Rollback failed', text: 'help' });

    // Assess
    const mails = await outbox.list();
    expect(mails).toHaveLength(2);
    expect(mails[0]).toMatchObject({
      to: ['demo@example.com'],
      subject: 'Approve: User Notifications to production',
      html: '<p>Review</p>',
      sentAt: '2026-11-28T10:00:00.000Z',
    });
    expect(mails[0]?.id).toMatch(/^mail-/);
    expect(mails[1]?.subject).toBe('Rollback failed');
    expect(lines).toEqual([
      expect.stringContaining('demo@example.com: Approve: User Notifications to production'),
      expect.stringContaining('a@example.com, b@example.com: Rollback failed'),
    ]);
    expect(lines.join('\n')).not.toContain('apr-secret');
  });

  it('reads the mails another notifier on the same database sent', async () => {
    // Prepare
    await new OutboxNotifier(db).send({ to: ['demo@example.com'], subject: 'hello', text: 'body' });

    // Act
    const mails = await new OutboxNotifier(db).list();

    // Assess
    expect(mails.map((m) => m.subject)).toEqual(['hello']);
  });

  it('keeps a subject with line breaks and control characters on one line, in the outbox and its log line', async () => {
    // Prepare
    const lines: string[] = [];
    const outbox = new OutboxNotifier(db, (line) => lines.push(line), new FakeClock());

    // Act
    await outbox.send({
      to: ['a@example.com'],
      subject: 'Approve: Evil\nBcc: x@evil.example\u202e',
      text: 't',
    });

    // Assess
    const [mail] = await outbox.list();
    expect(mail?.subject).toBe('Approve: Evil Bcc: x@evil.example');
    expect(lines).toEqual([
      "📧 Mail to a@example.com: Approve: Evil Bcc: x@evil.example (in the console's outbox)",
    ]);
  });
});

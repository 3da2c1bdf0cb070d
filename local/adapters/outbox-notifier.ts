import { randomUUID } from 'node:crypto';
import { mailSubject } from '../../functions/shared/one-line.js';
import { type Clock, systemClock } from '../../functions/shared/ports/clock.js';
import type { Notification, Notifier } from '../../functions/shared/ports/notifier.js';
import type { Database } from './sqlite-database.js';

export interface OutboxMail extends Notification {
  id: string;
  sentAt: string;
}

/**
 * The local runtime's mail: messages are kept in SQLite for the console (`list()`) and announced with one
 * short line through `log` (never the body: it carries approval links).
 */
export class OutboxNotifier implements Notifier {
  constructor(
    private readonly db: Database,
    private readonly log: (line: string) => void = () => undefined,
    private readonly clock: Clock = systemClock,
  ) {}

  async send(message: Notification): Promise<void> {
    const mail: OutboxMail = {
      id: `mail-${randomUUID()}`,
      sentAt: this.clock.now().toISOString(),
      to: [...message.to],
      subject: mailSubject(message.subject),
      text: message.text,
      ...(message.html !== undefined ? { html: message.html } : {}),
    };
    this.db
      .prepare('INSERT INTO outbox (mail_id, sent_at, message) VALUES (?, ?, ?)')
      .run(mail.id, mail.sentAt, JSON.stringify(mail));
    this.log(`📧 Mail to ${mail.to.join(', ')}: ${mail.subject} (in the console's outbox)`);
  }

  /** Every mail sent, oldest first. */
  async list(): Promise<OutboxMail[]> {
    return this.db
      .prepare('SELECT message FROM outbox ORDER BY seq')
      .all()
      .map((row) => JSON.parse(String(row.message)) as OutboxMail);
  }
}

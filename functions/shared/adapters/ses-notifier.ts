import { type SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { escapeHtml } from '../html.js';
import { mailSubject } from '../one-line.js';
import type { Notification, Notifier } from '../ports/notifier.js';

export interface SesNotifierOptions {
  client: SESv2Client;
  /** a verified SES identity (address or an address of a verified domain) */
  from: string;
  configurationSet?: string;
}

/**
 * The production `Notifier`: one SESv2 `SendEmail` per notification with a text and an HTML part (the text
 * escaped into `<pre>` when the caller gave no HTML); the subject on one line (`mailSubject`), since it
 * carries a task name people wrote.
 *
 * @example
 * await new SesNotifier({ client: new SESv2Client({}), from: 'deploy@example.com' }).send({ to, subject, text });
 */
export class SesNotifier implements Notifier {
  constructor(private readonly options: SesNotifierOptions) {}

  async send(message: Notification): Promise<void> {
    if (message.to.length === 0) return;
    await this.options.client.send(
      new SendEmailCommand({
        FromEmailAddress: this.options.from,
        Destination: { ToAddresses: message.to },
        ...(this.options.configurationSet ? { ConfigurationSetName: this.options.configurationSet } : {}),
        Content: {
          Simple: {
            Subject: { Data: mailSubject(message.subject), Charset: 'UTF-8' },
            Body: {
              Text: { Data: message.text, Charset: 'UTF-8' },
              Html: {
                Data:
                  message.html ??
                  `<pre style="font-family:system-ui,sans-serif;white-space:pre-wrap">${escapeHtml(message.text)}</pre>`,
                Charset: 'UTF-8',
              },
            },
          },
        },
      }),
    );
  }
}

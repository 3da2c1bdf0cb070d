import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { SesNotifier } from '../../../functions/shared/adapters/ses-notifier.js';

describe('SesNotifier', () => {
  const ses = mockClient(SESv2Client);
  const notifier = new SesNotifier({
    client: new SESv2Client({ region: 'eu-west-1' }),
    from: 'deploy@example.com',
  });

  afterEach(() => {
    ses.reset();
  });

  it('sends one mail with a text and an HTML part', async () => {
    // Prepare
    ses.on(SendEmailCommand).resolves({ MessageId: 'm-1' });

    // Act
    await notifier.send({
      to: ['a@example.com', 'b@example.com'],
      subject: 'Approve deployment',
      text: 'Review the plan',
      html: '<p>Review the plan</p>',
    });

    // Assess
    expect(ses).toHaveReceivedCommandWith(SendEmailCommand, {
      FromEmailAddress: 'deploy@example.com',
      Destination: { ToAddresses: ['a@example.com', 'b@example.com'] },
      Content: {
        Simple: {
          Subject: { Data: 'Approve deployment', Charset: 'UTF-8' },
          Body: {
            Text: { Data: 'Review the plan', Charset: 'UTF-8' },
            Html: { Data: '<p>Review the plan</p>', Charset: 'UTF-8' },
          },
        },
      },
    });
  });

  it('writes a subject with line breaks from a task name on one line, so it cannot add a header', async () => {
    // Prepare
    ses.on(SendEmailCommand).resolves({});

    // Act
    await notifier.send({
      to: ['a@example.com'],
      subject: 'Approve deployment: Evil\r\nBcc: x@evil.example → production',
      text: 'Review the plan',
    });

    // Assess
    expect(ses).toHaveReceivedCommandWith(SendEmailCommand, {
      Content: {
        Simple: expect.objectContaining({
          Subject: { Data: 'Approve deployment: Evil Bcc: x@evil.example → production', Charset: 'UTF-8' },
        }),
      },
    });
  });

  it('escapes the text into the HTML part when no HTML is given', async () => {
    // Prepare
    ses.on(SendEmailCommand).resolves({});

    // Act
    await notifier.send({ to: ['a@example.com'], subject: 's', text: 'rollback <failed> & escalated' });

    // Assess
    const html = ses.commandCalls(SendEmailCommand)[0]?.args[0].input.Content?.Simple?.Body?.Html?.Data;
    expect(html).toContain('rollback &lt;failed&gt; &amp; escalated');
  });

  it('sends nothing when there is nobody to send to', async () => {
    // Act
    await notifier.send({ to: [], subject: 's', text: 't' });

    // Assess
    expect(ses).not.toHaveReceivedCommand(SendEmailCommand);
  });
});

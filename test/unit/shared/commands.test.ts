import { COMMAND_USAGE, commentText, parseCommand } from '../../../functions/shared/commands.js';

describe('parseCommand', () => {
  it.each([
    ['/deploy', { kind: 'deploy' }],
    ['  /deploy  \n', { kind: 'deploy' }],
    ['/DEPLOY', { kind: 'deploy' }],
    ['/deploy approve', { kind: 'approve' }],
    ['/Deploy Approve looks good, ship it', { kind: 'approve', comment: 'looks good, ship it' }],
    ['/deploy hold wait for the marketing launch', { kind: 'hold', reason: 'wait for the marketing launch' }],
    ['/deploy hold\nmulti\nline', { kind: 'hold', reason: 'multi\nline' }],
    ['/deploy rollback 86b1xk7qz', { kind: 'rollback', taskId: '86b1xk7qz' }],
    ['/deploy rollback #DEV-123', { kind: 'rollback', taskId: 'DEV-123' }],
    [
      '/deploy rollback 86b1xk7qz errors spiking',
      { kind: 'rollback', taskId: '86b1xk7qz', reason: 'errors spiking' },
    ],
    ['/deploy\u00a0approve', { kind: 'approve' }],
  ])('reads %j as a command', (text, command) => {
    // Act
    const parsed = parseCommand(text);

    // Assess
    expect(parsed).toEqual({ ok: true, command });
  });

  it.each([
    ['an ordinary comment', 'Looks good to me'],
    ['an empty comment', ''],
    ['only whitespace', ' \n\t '],
    ['a mention of the command inside a sentence', 'please /deploy this later'],
    ['a longer word', '/deployment is done'],
    ['a full-width solidus', '／deploy'],
    ['a Cyrillic е', '/dеploy'],
    ['a zero-width space', '/de\u200bploy'],
    ['a zero-width space after the word', '/deploy\u200b approve'],
    ['a division slash', '\u2215deploy'],
  ])('treats %s as no command', (_name, text) => {
    // Act
    const parsed = parseCommand(text);

    // Assess
    expect(parsed).toBeUndefined();
  });

  it.each([
    ['hold without a reason', '/deploy hold', 'a hold needs a reason'],
    ['hold with only spaces', '/deploy hold    ', 'a hold needs a reason'],
    ['rollback without a task', '/deploy rollback', 'say which task to roll back'],
    ['rollback of a malformed task id', '/deploy rollback ../etc', 'expected a task id'],
    ['an unknown subcommand', '/deploy now please', 'unknown command `/deploy now`'],
    ['a look-alike subcommand', '/deploy аpprove', 'unknown command'],
    ['an oversized reason', `/deploy hold ${'x'.repeat(2001)}`, '2000'],
  ])('answers %s with a usage error', (_name, text, error) => {
    // Act
    const parsed = parseCommand(text);

    // Assess
    expect(parsed).toEqual({ ok: false, error: expect.stringContaining(error), usage: COMMAND_USAGE });
  });

  it('reads the webhook shape, the REST shape and rich runs', () => {
    // Prepare
    const webhook = {
      text_content: '/deploy approve\n',
      comment: [{ text: '/deploy approve', attributes: {} }],
    };
    const rest = { comment_text: '/deploy hold freeze week' };
    const rich = {
      comment: [
        { text: '/deploy ', attributes: {} },
        { text: 'rollback', attributes: { bold: true } },
        { type: 'tag', user: { id: 5 } },
        { text: ' 86b1xk7qz', attributes: {} },
        { text: '\n', attributes: { 'block-id': 'block-1' } },
      ],
    };

    // Act
    const parsed = [webhook, rest, rich].map((c) => parseCommand(c));

    // Assess
    expect(parsed).toEqual([
      { ok: true, command: { kind: 'approve' } },
      { ok: true, command: { kind: 'hold', reason: 'freeze week' } },
      { ok: true, command: { kind: 'rollback', taskId: '86b1xk7qz' } },
    ]);
  });

  it('never throws for odd shapes', () => {
    // Prepare
    const shapes: unknown[] = [
      null,
      undefined,
      {},
      { comment: 42 },
      { comment: [null, 3, { text: 5 }] },
      { text_content: 7 },
    ];

    // Act
    const parsed = shapes.map((s) => parseCommand(s as Parameters<typeof parseCommand>[0]));

    // Assess
    expect(parsed).toEqual(shapes.map(() => undefined));
  });
});

describe('commentText', () => {
  it('prefers the plain text over the rich runs', () => {
    // Act
    const text = commentText({ text_content: 'plain', comment: [{ text: 'rich' }] });

    // Assess
    expect(text).toBe('plain');
  });
});

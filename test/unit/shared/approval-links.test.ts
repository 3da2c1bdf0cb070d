import {
  ApprovalKeyError,
  csrfToken,
  newKeyring,
  parseKeyring,
  signLink,
  verifyCsrf,
  verifyLink,
} from '../../../functions/shared/approval-links.js';

const NOW = new Date('2026-11-28T10:00:00.000Z');
const EXPIRES = '2026-11-29T10:00:00.000Z';
const { current: K2, all: KEYS } = parseKeyring(
  JSON.stringify({
    current: 'k2',
    keys: { k1: Buffer.alloc(32, 1).toString('base64'), k2: Buffer.alloc(32, 2).toString('base64') },
  }),
  'test',
);
const K1 = KEYS.find((k) => k.id === 'k1') ?? K2;
const APPROVAL = 'appr0000000000000001';

const sign = (over: Partial<{ approvalId: string; approver: string; expiresAt: string }> = {}) =>
  signLink(K2, { approvalId: APPROVAL, approver: 'lead@example.com', expiresAt: EXPIRES, ...over });

describe('approval links', () => {
  it('verifies a link it signed and returns who it was made for', () => {
    // Prepare
    const { token, linkId } = sign();

    // Act
    const claims = verifyLink(KEYS, token, APPROVAL, NOW);

    // Assess
    expect(claims).toEqual({
      approvalId: APPROVAL,
      approver: 'lead@example.com',
      linkId,
      expiresAt: EXPIRES,
    });
    expect(token).toMatch(/^v1\.k2\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });

  it('gives every link its own id, so each decides once', () => {
    // Act
    const [a, b] = [sign(), sign()];

    // Assess
    expect(a.linkId).not.toBe(b.linkId);
    expect(a.token).not.toBe(b.token);
  });

  it('still verifies a link signed with a key rotated out of "current", and refuses one whose key was removed', () => {
    // Prepare
    const old = signLink(K1, { approvalId: APPROVAL, approver: 'lead@example.com', expiresAt: EXPIRES });

    // Act
    const kept = verifyLink(KEYS, old.token, APPROVAL, NOW);
    const removed = () => verifyLink([K2], old.token, APPROVAL, NOW);

    // Assess
    expect(kept.approver).toBe('lead@example.com');
    expect(removed).toThrow(expect.objectContaining({ problem: 'unknown-key' }));
  });

  it.each([
    ['a changed approver', (t: string) => swapClaims(t, { p: 'mallory@example.com' }), 'bad-signature'],
    ['a later expiry', (t: string) => swapClaims(t, { e: 4102444800 }), 'bad-signature'],
    [
      'a changed signature',
      (t: string) => `${t.slice(0, -2)}${t.endsWith('AA') ? 'BB' : 'AA'}`,
      'bad-signature',
    ],
    ['a truncated token', (t: string) => t.split('.').slice(0, 3).join('.'), 'malformed'],
    ['another version', (t: string) => t.replace(/^v1/, 'v2'), 'malformed'],
    ['an empty string', () => '', 'malformed'],
    ['an oversized token', (t: string) => `${t}${'A'.repeat(2000)}`, 'malformed'],
  ])('refuses a forged link with %s', (_name, forge, problem) => {
    // Prepare
    const { token } = sign();

    // Act
    const verify = () => verifyLink(KEYS, forge(token), APPROVAL, NOW);

    // Assess
    expect(verify).toThrow(expect.objectContaining({ name: 'ApprovalLinkError', problem }));
  });

  it('refuses a link made for another approval request', () => {
    // Prepare
    const { token } = sign({ approvalId: 'appr0000000000000002' });

    // Act
    const verify = () => verifyLink(KEYS, token, APPROVAL, NOW);

    // Assess
    expect(verify).toThrow(expect.objectContaining({ problem: 'other-approval' }));
  });

  it('refuses a link at and after its expiry, and says when it expired', () => {
    // Prepare
    const { token } = sign();

    // Act
    const atExpiry = () => verifyLink(KEYS, token, APPROVAL, new Date(EXPIRES));

    // Assess
    expect(atExpiry).toThrow(
      expect.objectContaining({ problem: 'expired', message: expect.stringContaining(EXPIRES) }),
    );
  });

  it('accepts the anti-forgery token only for the same link and the same browser cookie', () => {
    // Prepare
    const token = csrfToken(K2, 'link-1', 'cookie-1');

    // Act
    const results = [
      verifyCsrf(KEYS, token, 'link-1', 'cookie-1'),
      verifyCsrf(KEYS, token, 'link-2', 'cookie-1'),
      verifyCsrf(KEYS, token, 'link-1', 'cookie-2'),
      verifyCsrf(KEYS, token, 'link-1', ''),
      verifyCsrf(KEYS, '', 'link-1', 'cookie-1'),
      verifyCsrf([K1], token, 'link-1', 'cookie-1'),
    ];

    // Assess
    expect(results).toEqual([true, false, false, false, false, false]);
  });

  it('reads a keyring, a CloudFormation-generated flat keyring and a plain secret', () => {
    // Act
    const ring = parseKeyring(newKeyring('k7'), 'file');
    const flat = parseKeyring(JSON.stringify({ current: 'k1', k1: 'x'.repeat(40) }), 'secret');
    const plain = parseKeyring('y'.repeat(40), 'env');

    // Assess
    expect(ring.current.id).toBe('k7');
    expect(ring.current.secret.length).toBeGreaterThanOrEqual(32);
    expect(flat.current).toEqual({ id: 'k1', secret: Buffer.from('x'.repeat(40)) });
    expect(plain.current.id).toBe('default');
  });

  it.each([
    ['a short plain secret', 'short', /shorter than 32 bytes/],
    ['broken JSON', '{"current":', /not valid JSON/],
    [
      'a current key that is missing',
      JSON.stringify({ current: 'k9', keys: { k1: Buffer.alloc(32).toString('base64') } }),
      /current key "k9"/,
    ],
    [
      'a short key in a keyring',
      JSON.stringify({ current: 'k1', keys: { k1: 'c2hvcnQ=' } }),
      /key "k1" shorter/,
    ],
  ])('says what is wrong with %s and how to make a key', (_name, text, message) => {
    // Act
    const parse = () => parseKeyring(text, 'secret devops-agent/approval-keys');

    // Assess
    expect(parse).toThrow(ApprovalKeyError);
    expect(parse).toThrow(message);
    expect(parse).toThrow(/openssl rand -base64 48/);
  });
});

/** Re-encodes a token's claims with changes, keeping the old signature (a forgery). */
const swapClaims = (token: string, changes: Record<string, unknown>): string => {
  const [version, kid, body, mac] = token.split('.');
  const claims = JSON.parse(Buffer.from(body ?? '', 'base64url').toString()) as Record<string, unknown>;
  return [
    version,
    kid,
    Buffer.from(JSON.stringify({ ...claims, ...changes })).toString('base64url'),
    mac,
  ].join('.');
};

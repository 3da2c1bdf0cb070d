import fc from 'fast-check';
import {
  ApprovalLinkError,
  csrfToken,
  parseKeyring,
  type SigningKey,
  signLink,
  verifyCsrf,
  verifyLink,
} from '../../../functions/shared/approval-links.js';

const RUNS = { numRuns: 200 };
const NOW = new Date('2026-11-28T10:00:00.000Z');
const { current: K2, all: KEYS } = parseKeyring(
  JSON.stringify({
    current: 'k2',
    keys: { k1: Buffer.alloc(32, 1).toString('base64'), k2: Buffer.alloc(32, 2).toString('base64') },
  }),
  'test',
);

const approvalId = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 32 }).filter((s) => s.length <= 64);
const approver = fc.oneof(
  fc.emailAddress().filter((e) => e.length <= 320),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }),
);
/** Whole seconds, since a link carries its expiry in seconds. */
const future = fc.integer({ min: 1, max: 400 * 24 * 3600 }).map((s) => new Date(NOW.getTime() + s * 1000));
const claims = fc.record({ approvalId, approver, expiresAt: future.map((d) => d.toISOString()) });

/** What verifying threw: an ApprovalLinkError's problem, or the unexpected error itself. */
const refusal = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    if (error instanceof ApprovalLinkError) return error.problem;
    throw error;
  }
  return 'verified';
};

describe('verifyLink (properties)', () => {
  it('verifies a link signed with a listed key for exactly the approval, approver and expiry it was signed for', () => {
    fc.assert(
      fc.property(claims, (c) => {
        // Prepare
        const { token, linkId } = signLink(K2, c);

        // Act
        const verified = verifyLink(KEYS, token, c.approvalId, NOW);

        // Assess
        expect(verified).toEqual({ ...c, linkId });
      }),
      RUNS,
    );
  });

  it('refuses a link with any one character changed, with ApprovalLinkError', () => {
    fc.assert(
      fc.property(
        claims,
        fc.nat(),
        fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.=+/ \u00e9'),
        (c, at, replacement) => {
          // Prepare
          const { token } = signLink(K2, c);
          const index = at % token.length;
          fc.pre(token[index] !== replacement);
          const tampered = `${token.slice(0, index)}${replacement}${token.slice(index + 1)}`;

          // Act
          const problem = refusal(() => verifyLink(KEYS, tampered, c.approvalId, NOW));

          // Assess
          expect(problem).not.toBe('verified');
        },
      ),
      RUNS,
    );
  });

  it('refuses a link with a byte flipped in its signature or claims, with bad-signature', () => {
    fc.assert(
      fc.property(claims, fc.boolean(), fc.nat(), fc.integer({ min: 1, max: 255 }), (c, inMac, at, mask) => {
        // Prepare
        const { token } = signLink(K2, c);
        const [version, keyId, body = '', mac = ''] = token.split('.');
        const bytes = Buffer.from(inMac ? mac : body, 'base64url');
        const index = at % bytes.length;
        bytes[index] = (bytes[index] ?? 0) ^ mask;
        const flipped = bytes.toString('base64url');
        const tampered = [version, keyId, inMac ? body : flipped, inMac ? flipped : mac].join('.');

        // Act
        const problem = refusal(() => verifyLink(KEYS, tampered, c.approvalId, NOW));

        // Assess
        expect(problem).toBe('bad-signature');
      }),
      RUNS,
    );
  });

  it('refuses every truncation of a link', () => {
    fc.assert(
      fc.property(claims, fc.nat(), (c, cut) => {
        // Prepare
        const { token } = signLink(K2, c);
        const truncated = token.slice(0, cut % token.length);

        // Act
        const problem = refusal(() => verifyLink(KEYS, truncated, c.approvalId, NOW));

        // Assess
        expect(['malformed', 'unknown-key', 'bad-signature']).toContain(problem);
      }),
      RUNS,
    );
  });

  it('refuses a link for another approval request with other-approval', () => {
    fc.assert(
      fc.property(claims, approvalId, (c, other) => {
        // Prepare
        fc.pre(other !== c.approvalId);
        const { token } = signLink(K2, c);

        // Act
        const problem = refusal(() => verifyLink(KEYS, token, other, NOW));

        // Assess
        expect(problem).toBe('other-approval');
      }),
      RUNS,
    );
  });

  it('refuses a link at or after its expiry with expired', () => {
    fc.assert(
      fc.property(claims, fc.integer({ min: 0, max: 10 * 365 * 24 * 3600 }), (c, late) => {
        // Prepare
        const { token } = signLink(K2, c);
        const now = new Date(new Date(c.expiresAt).getTime() + late * 1000);

        // Act
        const problem = refusal(() => verifyLink(KEYS, token, c.approvalId, now));

        // Assess
        expect(problem).toBe('expired');
      }),
      RUNS,
    );
  });

  it('refuses a link signed with a key that is not listed, even under a listed key id', () => {
    fc.assert(
      fc.property(
        claims,
        fc.uint8Array({ minLength: 32, maxLength: 64 }),
        fc.constantFrom('k1', 'k2', 'k3', 'default'),
        (c, secret, id) => {
          // Prepare
          const forged: SigningKey = { id, secret: Buffer.from(secret) };
          fc.pre(!KEYS.some((k) => k.secret.equals(forged.secret)));
          const { token } = signLink(forged, c);

          // Act
          const problem = refusal(() => verifyLink(KEYS, token, c.approvalId, NOW));

          // Assess
          expect(problem).toBe(KEYS.some((k) => k.id === id) ? 'bad-signature' : 'unknown-key');
        },
      ),
      RUNS,
    );
  });

  it('refuses any text that is not a link with ApprovalLinkError and never throws anything else', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary', maxLength: 200 }),
          fc
            .array(fc.string({ maxLength: 60 }), { minLength: 4, maxLength: 4 })
            .map((parts) => ['v1', 'k2', ...parts.slice(2)].join('.')),
          fc.jsonValue().map((v) => `v1.k2.${Buffer.from(JSON.stringify(v)).toString('base64url')}.x`),
          fc.string({ minLength: 1000, maxLength: 3000 }),
        ),
        approvalId,
        (token, id) => {
          // Act
          const problem = refusal(() => verifyLink(KEYS, token, id, NOW));

          // Assess
          expect(['malformed', 'unknown-key', 'bad-signature']).toContain(problem);
        },
      ),
      RUNS,
    );
  });
  it('refuses every other spelling of a valid signature (unused low bits, a trailing =, a line break), though it decodes to the same bytes', () => {
    fc.assert(
      fc.property(claims, (c) => {
        // Prepare
        const { token } = signLink(K2, c);
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        const respellings = [
          ...[...alphabet].filter((ch) => ch !== token.at(-1)).map((ch) => `${token.slice(0, -1)}${ch}`),
          `${token}=`,
          `${token} `,
          token.replace(/\.([^.]*)$/, '.\n$1'),
        ];

        // Act
        const verified = respellings.filter(
          (t) => refusal(() => verifyLink(KEYS, t, c.approvalId, NOW)) === 'verified',
        );

        // Assess
        expect(verified).toEqual([]);
      }),
      { numRuns: 50 },
    );
  });

  it('accepts an anti-forgery token only in the exact spelling it was issued in', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 16, maxLength: 32 }),
        fc.string({ minLength: 1, maxLength: 64 }),
        (linkId, cookie) => {
          // Prepare
          const token = csrfToken(K2, linkId, cookie);
          const respellings = [
            `${token}=`,
            `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`,
            `${token}\n`,
          ];

          // Act
          const accepted = respellings.filter((t) => verifyCsrf(KEYS, t, linkId, cookie));

          // Assess
          expect(verifyCsrf(KEYS, token, linkId, cookie)).toBe(true);
          expect(accepted).toEqual([]);
        },
      ),
      RUNS,
    );
  });
});

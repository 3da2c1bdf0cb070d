import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import { DomainError } from './errors.js';

/** A key approval links are signed with; `id` names it in every link so keys can rotate. */
export interface SigningKey {
  id: string;
  secret: Buffer;
}

/**
 * The keys approval links are signed with (Secrets Manager on AWS, a file under the data folder locally).
 * New links are signed with `current`; a link verifies against any key still listed, so a rotation never
 * breaks the links already sent.
 */
export interface ApprovalKeys {
  current(): Promise<SigningKey>;
  all(): Promise<SigningKey[]>;
}

/** Fewer bytes than this would make the HMAC guessable in practice. */
export const MIN_KEY_BYTES = 32;
const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

const KeyringSchema = z.object({
  current: z.string().regex(KEY_ID, { error: 'a key id is 1–32 letters, digits, _ or -' }),
  keys: z.record(z.string().regex(KEY_ID), z.string().min(1)).optional(),
});

/**
 * Reads the stored key material, in one of three shapes:
 * - a keyring `{"current": "k2", "keys": {"k1": "<base64>", "k2": "<base64>"}}`;
 * - a flat keyring `{"current": "k1", "k1": "<secret text>"}`, as CloudFormation generates a secret;
 * - one plain secret (key id `default`).
 * Rotation: add a key, make it current, remove the old one once the links it signed have expired. Every
 * key must be at least 32 bytes. Fails saying what is wrong and how to fix it.
 */
export const parseKeyring = (text: string, where: string): { current: SigningKey; all: SigningKey[] } => {
  const trimmed = text.trim();
  const fail = (problem: string) =>
    new ApprovalKeyError(
      `the approval signing key in ${where} ${problem}; store {"current":"k1","keys":{"k1":"<base64 of 32+ random bytes>"}} (e.g. from \`openssl rand -base64 48\`)`,
    );
  let all: SigningKey[];
  let currentId = 'default';
  if (trimmed.startsWith('{')) {
    let data: unknown;
    try {
      data = JSON.parse(trimmed);
    } catch {
      throw fail('is not valid JSON');
    }
    const parsed = KeyringSchema.safeParse(data);
    if (!parsed.success) throw fail(`is not a keyring (${parsed.error.issues[0]?.message ?? 'bad shape'})`);
    currentId = parsed.data.current;
    all = parsed.data.keys
      ? Object.entries(parsed.data.keys).map(([id, value]) => ({ id, secret: Buffer.from(value, 'base64') }))
      : Object.entries(data as Record<string, unknown>)
          .filter(([id, value]) => id !== 'current' && KEY_ID.test(id) && typeof value === 'string')
          .map(([id, value]) => ({ id, secret: Buffer.from(value as string, 'utf8') }));
  } else {
    all = [{ id: 'default', secret: Buffer.from(trimmed, 'utf8') }];
  }
  const short = all.find((k) => k.secret.length < MIN_KEY_BYTES);
  if (short)
    throw fail(
      short.id === 'default'
        ? `is shorter than ${MIN_KEY_BYTES} bytes`
        : `has key "${short.id}" shorter than ${MIN_KEY_BYTES} bytes`,
    );
  const current = all.find((k) => k.id === currentId);
  if (!current) throw fail(`names current key "${currentId}", which is not among its keys`);
  return { current, all };
};

/** A new keyring with one random key, as the local runtime writes it on its first start. */
export const newKeyring = (id = 'k1'): string =>
  JSON.stringify({ current: id, keys: { [id]: randomBytes(48).toString('base64') } });

/** The signing key material is missing or malformed (a setup problem, not a bad link). */
export class ApprovalKeyError extends DomainError {}

export type LinkProblem = 'malformed' | 'unknown-key' | 'bad-signature' | 'other-approval' | 'expired';

/** A link that must not decide anything; `problem` says why (audited), the message what to do. */
export class ApprovalLinkError extends DomainError {
  constructor(
    readonly problem: LinkProblem,
    message: string,
  ) {
    super(message);
  }
}

/** What a link says, once its signature is checked. */
export interface LinkClaims {
  approvalId: string;
  /** the approver the link was sent to (lower-case email or ClickUp user id) */
  approver: string;
  /** unique per link: a decision records it, so the link decides once */
  linkId: string;
  /** when the link stops working (the approval's expiry) */
  expiresAt: string;
}

const ClaimsSchema = z.strictObject({
  a: z.string().min(1).max(64),
  p: z.string().min(1).max(320),
  n: z.string().regex(/^[A-Za-z0-9_-]{16,32}$/),
  e: z.number().int().positive(),
});

const VERSION = 'v1';
const mac = (key: SigningKey, text: string): Buffer => createHmac('sha256', key.secret).update(text).digest();

/** Signs a personal link token: `v1.<key id>.<claims>.<HMAC-SHA256>`, all base64url. */
export const signLink = (
  key: SigningKey,
  claims: Omit<LinkClaims, 'linkId'> & { linkId?: string },
): { token: string; linkId: string } => {
  const linkId = claims.linkId ?? randomBytes(16).toString('base64url');
  const body = Buffer.from(
    JSON.stringify({
      a: claims.approvalId,
      p: claims.approver,
      n: linkId,
      e: Math.floor(new Date(claims.expiresAt).getTime() / 1000),
    }),
  ).toString('base64url');
  const signed = `${VERSION}.${key.id}.${body}`;
  return { token: `${signed}.${mac(key, signed).toString('base64url')}`, linkId };
};

const INVALID = 'this approval link is not valid; open the newest link from your approval mail';

/**
 * Checks a link token for one approval: the signature against every listed key (constant-time), that it
 * was made for `approvalId`, and that it has not expired. Throws ApprovalLinkError otherwise.
 */
export const verifyLink = (keys: SigningKey[], token: string, approvalId: string, now: Date): LinkClaims => {
  const parts = token.length <= 1024 ? token.split('.') : [];
  const [version, keyId, body, signature] = parts;
  if (parts.length !== 4 || version !== VERSION || !keyId || !body || !signature)
    throw new ApprovalLinkError('malformed', INVALID);
  const key = keys.find((k) => k.id === keyId);
  if (!key) throw new ApprovalLinkError('unknown-key', `${INVALID} (it was signed with a retired key)`);
  const expected = mac(key, `${version}.${keyId}.${body}`);
  const given = Buffer.from(signature, 'base64url');
  // The decoder skips stray characters and unused low bits, so only the canonical spelling is the signature.
  if (
    given.length !== expected.length ||
    given.toString('base64url') !== signature ||
    !timingSafeEqual(given, expected)
  )
    throw new ApprovalLinkError('bad-signature', INVALID);
  let claims: z.infer<typeof ClaimsSchema>;
  try {
    claims = ClaimsSchema.parse(JSON.parse(Buffer.from(body, 'base64url').toString('utf8')));
  } catch {
    throw new ApprovalLinkError('malformed', INVALID);
  }
  if (claims.a !== approvalId)
    throw new ApprovalLinkError('other-approval', 'this link belongs to another approval request');
  const expiresAt = new Date(claims.e * 1000);
  if (expiresAt <= now)
    throw new ApprovalLinkError('expired', `this approval link expired at ${expiresAt.toISOString()}`);
  return { approvalId: claims.a, approver: claims.p, linkId: claims.n, expiresAt: expiresAt.toISOString() };
};

/**
 * The form's anti-forgery token: an HMAC of the link and the browser's random cookie, so a POST is only
 * accepted from a page this server rendered for this link in this browser (signed double-submit cookie).
 */
export const csrfToken = (key: SigningKey, linkId: string, cookie: string): string =>
  `${key.id}.${mac(key, `csrf.${linkId}.${cookie}`).toString('base64url')}`;

/** Whether `token` is the anti-forgery token of this link and cookie under any listed key. */
export const verifyCsrf = (keys: SigningKey[], token: string, linkId: string, cookie: string): boolean => {
  if (!cookie || !token || token.length > 200) return false;
  const [keyId, signature] = token.split('.');
  const key = keys.find((k) => k.id === keyId);
  if (!key || !signature) return false;
  const expected = mac(key, `csrf.${linkId}.${cookie}`);
  const given = Buffer.from(signature, 'base64url');
  return (
    given.length === expected.length &&
    given.toString('base64url') === signature &&
    timingSafeEqual(given, expected)
  );
};

/**
 * Approval keys from stored key material (a Secrets Manager secret, a file), parsed on every call: the
 * loader caches, so a rotation applies when its cache expires.
 */
export class StoredApprovalKeys implements ApprovalKeys {
  constructor(
    private readonly load: () => Promise<string>,
    private readonly where: string,
  ) {}

  async current(): Promise<SigningKey> {
    return parseKeyring(await this.load(), this.where).current;
  }

  async all(): Promise<SigningKey[]> {
    return parseKeyring(await this.load(), this.where).all;
  }
}

import { createHash, createHmac } from 'node:crypto';
import { eksToken } from '../../../functions/shared/adapters/kubernetes/eks-token.js';

const CREDENTIALS = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const SIGNED_AT = new Date('2026-11-28T09:30:15.250Z');

/** The URL inside a token, checking the documented envelope: the prefix, then base64url without padding. */
const decode = (token: string): URL => {
  expect(token.startsWith('k8s-aws-v1.')).toBe(true);
  const payload = token.slice('k8s-aws-v1.'.length);
  expect(payload).toMatch(/^[A-Za-z0-9_-]+$/);
  return new URL(Buffer.from(payload, 'base64url').toString('utf8'));
};

const hmac = (key: Buffer | string, text: string) => createHmac('sha256', key).update(text).digest();
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const rfc3986 = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** SigV4 of a presigned GET (docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html), by hand. */
const expectedSignature = (url: URL, headers: Record<string, string>, secret: string): string => {
  const query = [...url.searchParams.entries()]
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`)
    .sort()
    .join('&');
  const names = Object.keys(headers).sort();
  const canonical = [
    'GET',
    url.pathname,
    query,
    ...names.map((n) => `${n}:${headers[n]}`),
    '',
    names.join(';'),
    sha256(''),
  ].join('\n');
  const date = url.searchParams.get('X-Amz-Date') ?? '';
  const [, scope = ''] = (url.searchParams.get('X-Amz-Credential') ?? '').split(/\/(.*)/);
  const [day = '', region = '', service = ''] = scope.split('/');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, day), region), service), 'aws4_request');
  return hmac(key, ['AWS4-HMAC-SHA256', date, scope, sha256(canonical)].join('\n')).toString('hex');
};

describe('eksToken', () => {
  it('is k8s-aws-v1. and the unpadded base64url of a presigned STS GetCallerIdentity URL', async () => {
    // Act
    const { token } = await eksToken({
      clusterName: 'prod-eu',
      region: 'eu-west-1',
      credentials: CREDENTIALS,
      now: SIGNED_AT,
    });

    // Assess
    expect(token).not.toContain('=');
    const url = decode(token);
    expect(url.protocol).toBe('https:');
    expect(url.host).toBe('sts.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/');
    expect(url.searchParams.get('Action')).toBe('GetCallerIdentity');
    expect(url.searchParams.get('Version')).toBe('2011-06-15');
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(url.searchParams.get('X-Amz-Date')).toBe('20261128T093015Z');
    expect(url.searchParams.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20261128/eu-west-1/sts/aws4_request');
    expect(url.searchParams.get('X-Amz-SignedHeaders')?.split(';')).toEqual(['host', 'x-k8s-aws-id']);
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('signs the cluster name header, so the token is refused by any other cluster', async () => {
    // Prepare
    const options = { region: 'eu-west-1', credentials: CREDENTIALS, now: SIGNED_AT };

    // Act
    const prod = decode((await eksToken({ ...options, clusterName: 'prod-eu' })).token);
    const staging = decode((await eksToken({ ...options, clusterName: 'staging-eu' })).token);

    // Assess
    const host = 'sts.eu-west-1.amazonaws.com';
    expect(prod.searchParams.get('X-Amz-Signature')).toBe(
      expectedSignature(prod, { host, 'x-k8s-aws-id': 'prod-eu' }, CREDENTIALS.secretAccessKey),
    );
    expect(prod.searchParams.get('X-Amz-Signature')).not.toBe(
      expectedSignature(prod, { host, 'x-k8s-aws-id': 'staging-eu' }, CREDENTIALS.secretAccessKey),
    );
    expect(staging.searchParams.get('X-Amz-Signature')).not.toBe(prod.searchParams.get('X-Amz-Signature'));
  });

  it('carries only the query keys the EKS authenticator accepts, the session token among them', async () => {
    // Act
    const { token } = await eksToken({
      clusterName: 'prod-eu',
      region: 'us-east-2',
      credentials: async () => ({ ...CREDENTIALS, sessionToken: 'IQoJb3JpZ2luX2VjEXAMPLE//+token=' }),
      now: SIGNED_AT,
    });

    // Assess
    const url = decode(token);
    expect([...url.searchParams.keys()].sort()).toEqual(
      [
        'Action',
        'Version',
        'X-Amz-Algorithm',
        'X-Amz-Credential',
        'X-Amz-Date',
        'X-Amz-Expires',
        'X-Amz-Security-Token',
        'X-Amz-Signature',
        'X-Amz-SignedHeaders',
      ].sort(),
    );
    expect(url.searchParams.get('X-Amz-Security-Token')).toBe('IQoJb3JpZ2luX2VjEXAMPLE//+token=');
    expect(url.host).toBe('sts.us-east-2.amazonaws.com');
    expect(url.searchParams.get('X-Amz-Credential')).toContain('/us-east-2/sts/aws4_request');
    expect(token.length).toBeLessThan(4096);
  });

  it('expires 15 minutes after the signing second, whatever X-Amz-Expires says', async () => {
    // Act
    const { expiresAt } = await eksToken({
      clusterName: 'prod-eu',
      region: 'eu-west-1',
      credentials: CREDENTIALS,
      now: SIGNED_AT,
    });

    // Assess
    expect(expiresAt.toISOString()).toBe('2026-11-28T09:45:15.000Z');
  });
});

import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';

/** AWS credentials as the SDK's providers resolve them. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
}

export type AwsCredentialProvider = () => Promise<AwsCredentials>;

export interface EksToken {
  /** `k8s-aws-v1.` + the presigned URL, base64url without padding */
  token: string;
  /** when the API server stops accepting it: 15 minutes after the signing time */
  expiresAt: Date;
}

export interface EksTokenOptions {
  clusterName: string;
  region: string;
  credentials: AwsCredentials | AwsCredentialProvider;
  /** the signing time (default now) */
  now?: Date;
}

const TOKEN_PREFIX = 'k8s-aws-v1.';
const CLUSTER_HEADER = 'x-k8s-aws-id';
/**
 * aws-iam-authenticator sends 60 "for legacy reasons" and the server ignores it: a token is accepted for 15
 * minutes after its `X-Amz-Date` whatever it says (external-apis.md §5.3).
 */
const PRESIGN_EXPIRES_SECONDS = 60;
const TOKEN_LIFETIME_MS = 15 * 60_000;

type Data = string | ArrayBuffer | ArrayBufferView;

const bytes = (data: Data): Buffer | string =>
  typeof data === 'string'
    ? data
    : data instanceof ArrayBuffer
      ? Buffer.from(data)
      : Buffer.from(data.buffer, data.byteOffset, data.byteLength);

/** SHA-256 (and HMAC-SHA-256 with a secret) over node:crypto, in the shape SignatureV4 asks for. */
class NodeSha256 {
  private hash: Hash | Hmac;
  constructor(private readonly secret?: Data) {
    this.hash = this.fresh();
  }
  update(data: Data): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
  reset(): void {
    this.hash = this.fresh();
  }
  private fresh(): Hash | Hmac {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(this.secret));
  }
}

/**
 * The bearer token EKS accepts for an IAM identity, built as aws-iam-authenticator and `aws eks get-token`
 * build it: a SigV4 query-presigned `GET https://sts.<region>.amazonaws.com/?Action=GetCallerIdentity&
 * Version=2011-06-15` whose signed headers include `x-k8s-aws-id: <cluster name>` (the server refuses a token
 * that did not sign it, so a token for one cluster cannot be replayed on another), base64url-encoded without
 * padding behind `k8s-aws-v1.`. Nothing is sent to STS here: the cluster does that when it checks the token.
 *
 * @example
 * const { token, expiresAt } = await eksToken({ clusterName: 'prod', region: 'eu-west-1', credentials: defaultProvider() });
 */
export const eksToken = async (options: EksTokenOptions): Promise<EksToken> => {
  const now = options.now ?? new Date();
  const hostname = `sts.${options.region}.amazonaws.com`;
  const signer = new SignatureV4({
    service: 'sts',
    region: options.region,
    credentials: options.credentials,
    sha256: NodeSha256,
    uriEscapePath: true,
    applyChecksum: false,
  });
  const presigned = await signer.presign(
    {
      method: 'GET',
      protocol: 'https:',
      hostname,
      path: '/',
      query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
      headers: { host: hostname, [CLUSTER_HEADER]: options.clusterName },
    },
    { expiresIn: PRESIGN_EXPIRES_SECONDS, signingDate: now },
  );
  const query = Object.entries(presigned.query ?? {})
    .flatMap(([key, value]) =>
      (Array.isArray(value) ? value : [value]).map(
        (v) => `${encodeURIComponent(key)}=${encodeURIComponent(String(v ?? ''))}`,
      ),
    )
    .join('&');
  const url = `https://${hostname}/?${query}`;
  // X-Amz-Date has whole seconds: the lifetime counts from there, not from `now`'s milliseconds
  const signedAt = Math.floor(now.getTime() / 1000) * 1000;
  return {
    token: `${TOKEN_PREFIX}${Buffer.from(url, 'utf8').toString('base64url')}`,
    expiresAt: new Date(signedAt + TOKEN_LIFETIME_MS),
  };
};

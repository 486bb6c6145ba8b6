import { LitestreamError, UsageError } from '@litestream-ts/core';
import type { fromNodeProviderChain } from '@aws-sdk/credential-providers';

/** A source of AWS credentials, as the SDK calls it. */
export type AwsCredentialIdentityProvider = ReturnType<typeof fromNodeProviderChain>;
/** One set of AWS credentials. */
export type AwsCredentialIdentity = Awaited<ReturnType<AwsCredentialIdentityProvider>>;

/** Environment variables, injectable so precedence can be tested without touching `process.env`. */
export type Environment = Readonly<Record<string, string | undefined>>;

/** Where a client's credentials come from, in the order they are tried. */
export type CredentialSource = 'config' | 'LITESTREAM_*' | 'AWS_*' | 'default chain';

/** The outcome of looking for static keys: which source won and, unless it is the default chain, the keys. */
export interface CredentialChoice {
  readonly source: CredentialSource;
  readonly credentials: AwsCredentialIdentity | undefined;
}

/** No source had credentials. The message says what to set and never repeats a secret. */
export class MissingCredentialsError extends LitestreamError {
  constructor(cause?: unknown) {
    super(
      'no S3 credentials found: set access-key-id and secret-access-key in the replica config, or LITESTREAM_ACCESS_KEY_ID and LITESTREAM_SECRET_ACCESS_KEY, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or use an AWS profile or IAM role',
      // The chain's own error lists provider names only, never secrets; kept for debugging.
      cause === undefined ? undefined : { cause },
    );
  }
}

/**
 * Picks static credentials: explicit keys (per replica, or global ones the CLI merged into the
 * replica settings), then LITESTREAM_ACCESS_KEY_ID/LITESTREAM_SECRET_ACCESS_KEY, then
 * AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (with AWS_SESSION_TOKEN); otherwise the SDK's default
 * chain (shared files, SSO, web identity, ECS and EC2 roles). Half a pair is a usage error.
 */
export function chooseCredentials(explicit: { accessKeyId?: string; secretAccessKey?: string; sessionToken?: string }, env: Environment): CredentialChoice {
  const fromConfig = pair(explicit.accessKeyId, explicit.secretAccessKey, 'access-key-id', 'secret-access-key');
  if (fromConfig) return { source: 'config', credentials: withToken(fromConfig, explicit.sessionToken) };
  const fromLitestream = pair(env.LITESTREAM_ACCESS_KEY_ID, env.LITESTREAM_SECRET_ACCESS_KEY, 'LITESTREAM_ACCESS_KEY_ID', 'LITESTREAM_SECRET_ACCESS_KEY');
  if (fromLitestream) return { source: 'LITESTREAM_*', credentials: fromLitestream };
  const fromAws = pair(env.AWS_ACCESS_KEY_ID, env.AWS_SECRET_ACCESS_KEY, 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY');
  if (fromAws) return { source: 'AWS_*', credentials: withToken(fromAws, env.AWS_SESSION_TOKEN) };
  return { source: 'default chain', credentials: undefined };
}

/**
 * The provider the S3 client signs with: the chosen static keys, or the default chain whose
 * failure becomes a `MissingCredentialsError`.
 */
export function credentialProvider(choice: CredentialChoice, defaultChain: () => AwsCredentialIdentityProvider): AwsCredentialIdentityProvider {
  if (choice.credentials) {
    const credentials = choice.credentials;
    return async () => credentials;
  }
  let chain: AwsCredentialIdentityProvider | undefined;
  return async (options) => {
    chain ??= defaultChain();
    try {
      return await chain(options);
    } catch (error) {
      throw new MissingCredentialsError(error);
    }
  };
}

function pair(id: string | undefined, secret: string | undefined, idName: string, secretName: string): AwsCredentialIdentity | undefined {
  const hasId = id !== undefined && id !== '';
  const hasSecret = secret !== undefined && secret !== '';
  if (hasId && hasSecret) return { accessKeyId: id, secretAccessKey: secret };
  if (hasId) throw new UsageError(`${idName} is set but ${secretName} is not; set both or neither`);
  if (hasSecret) throw new UsageError(`${secretName} is set but ${idName} is not; set both or neither`);
  return undefined;
}

function withToken(credentials: AwsCredentialIdentity, sessionToken: string | undefined): AwsCredentialIdentity {
  return sessionToken ? { ...credentials, sessionToken } : credentials;
}

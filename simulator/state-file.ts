import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { z } from 'zod';
import type { Logger } from '../src/lib/logger.ts';
import type { CredentialStore } from './credentials.ts';

/**
 * The simulator's durable state, kept in one JSON file so a restarted simulator still accepts
 * what it issued before: OAuth delegations, access and refresh tokens with their expiry, REST
 * API keys, and the RS256 key that signed ID tokens. It also stores the first start's reference
 * instant, so the generated history does not shift by the downtime.
 */

const STATE_VERSION = 1;

/** What the stored credentials belong to; another account makes them meaningless. */
const accountKeySchema = z.object({ seed: z.number(), people: z.number(), region: z.enum(['us', 'eu']), clientId: z.string() });
export type StateAccountKey = z.infer<typeof accountKeySchema>;

const stateSchema = z.object({
  version: z.literal(STATE_VERSION),
  account: accountKeySchema,
  /** The instant the generated history ends at, from the first start (ISO 8601). */
  referenceNow: z.iso.datetime(),
  /** When the first start happened, in ms since the epoch; the account's clock runs on from it. */
  firstStartedAtMs: z.number(),
  signing: z.object({ kid: z.string().min(1), privateJwk: z.record(z.string(), z.unknown()) }),
  accountApiKey: z.string().min(1),
  delegations: z.array(
    z.object({ id: z.string(), userId: z.string(), clientId: z.string(), scopes: z.array(z.string()), createdAt: z.iso.datetime(), isRevoked: z.boolean() }),
  ),
  accessTokens: z.array(z.object({ token: z.string(), delegationId: z.string(), expiresAtMs: z.number() })),
  refreshTokens: z.array(z.object({ token: z.string(), delegationId: z.string(), expiresAtMs: z.number(), isSpent: z.boolean() })),
  apiKeys: z.array(z.object({ key: z.string(), userId: z.string().nullable(), isReadOnly: z.boolean() })),
});
type StoredState = z.infer<typeof stateSchema>;

export interface SigningKey {
  privateKey: CryptoKey;
  publicJwk: JWK;
  kid: string;
}

/** The state a simulator starts from: loaded from the file or new. */
export interface InitialState {
  referenceNow: Date;
  firstStartedAtMs: number;
  signing: SigningKey;
  /** The signing key as a private JWK, for saving. */
  privateJwk: JWK;
  accountApiKey: string | null;
  /** Restores the stored credentials into `store`; a no-op for a new state. */
  restoreInto(store: CredentialStore): void;
}

/**
 * Loads the state file at `path`, or returns a new state when the file is missing or belongs to
 * another account (another seed, size, region or client id), which is logged. Throws when the
 * file exists but cannot be read or parsed, naming the file and the invalid field.
 */
export async function loadState(path: string | null, account: StateAccountKey, logger: Logger): Promise<InitialState> {
  const stored = path === null ? null : readStoredState(path);
  if (stored !== null && !sameAccount(stored.account, account)) {
    logger.warn({ path, stored: stored.account, requested: account }, 'The simulator state file belongs to another account; starting with new credentials');
  } else if (stored !== null) {
    const privateKey = (await importJWK(stored.signing.privateJwk as JWK, 'RS256', { extractable: true })) as CryptoKey;
    const privateJwk = stored.signing.privateJwk as JWK;
    return {
      referenceNow: new Date(stored.referenceNow),
      firstStartedAtMs: stored.firstStartedAtMs,
      signing: { privateKey, publicJwk: publicJwkOf(privateJwk, stored.signing.kid), kid: stored.signing.kid },
      privateJwk,
      accountApiKey: stored.accountApiKey,
      restoreInto: (store) => restoreCredentials(store, stored),
    };
  }

  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const kid = crypto.randomUUID().replaceAll('-', '').slice(0, 16);
  const privateJwk = await exportJWK(privateKey);
  const now = Date.now();
  return {
    referenceNow: new Date(now),
    firstStartedAtMs: now,
    signing: { privateKey, publicJwk: publicJwkOf(privateJwk, kid), kid },
    privateJwk,
    accountApiKey: null,
    restoreInto: () => {},
  };
}

/**
 * Writes the state to `path` atomically (a temporary file renamed over it), readable by the
 * owner only because it contains live credentials. Expired tokens are left out.
 */
export function saveState(
  path: string,
  state: { account: StateAccountKey; referenceNow: Date; firstStartedAtMs: number; signing: SigningKey; privateJwk: JWK; accountApiKey: string },
  store: CredentialStore,
  nowMs: number,
): void {
  const stored: StoredState = {
    version: STATE_VERSION,
    account: state.account,
    referenceNow: state.referenceNow.toISOString(),
    firstStartedAtMs: state.firstStartedAtMs,
    signing: { kid: state.signing.kid, privateJwk: { ...state.privateJwk } },
    accountApiKey: state.accountApiKey,
    delegations: [...store.delegations.values()].map((delegation) => ({ ...delegation, scopes: [...delegation.scopes], createdAt: delegation.createdAt.toISOString() })),
    accessTokens: [...store.accessTokens.values()].filter((record) => record.expiresAtMs > nowMs).map((record) => ({ ...record })),
    refreshTokens: [...store.refreshTokens.values()].filter((record) => record.expiresAtMs > nowMs).map((record) => ({ ...record })),
    apiKeys: [...store.apiKeys.values()].map((record) => ({ ...record })),
  };
  mkdirSync(dirname(path), { recursive: true });
  const temporaryPath = `${path}.${process.pid}.tmp`;
  writeFileSync(temporaryPath, `${JSON.stringify(stored)}\n`, { mode: 0o600 });
  renameSync(temporaryPath, path);
}

function readStoredState(path: string): StoredState | null {
  if (!existsSync(path)) return null;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`Could not read the simulator state file ${path}: ${(error as Error).message}. Delete it to start the simulator with new credentials.`, { cause: error });
  }
  const parsed = stateSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`The simulator state file ${path} is invalid at ${issue?.path.join('.') || '(root)'}: ${issue?.message ?? 'unknown problem'}. Delete it to start the simulator with new credentials.`);
  }
  return parsed.data;
}

function sameAccount(left: StateAccountKey, right: StateAccountKey): boolean {
  return left.seed === right.seed && left.people === right.people && left.region === right.region && left.clientId === right.clientId;
}

function publicJwkOf(privateJwk: JWK, kid: string): JWK {
  return { kty: privateJwk.kty, n: privateJwk.n, e: privateJwk.e, kid, alg: 'RS256', use: 'sig' };
}

function restoreCredentials(store: CredentialStore, stored: StoredState): void {
  for (const delegation of stored.delegations) store.delegations.set(delegation.id, { ...delegation, createdAt: new Date(delegation.createdAt) });
  for (const record of stored.accessTokens) store.accessTokens.set(record.token, record);
  for (const record of stored.refreshTokens) store.refreshTokens.set(record.token, record);
  for (const record of stored.apiKeys) store.apiKeys.set(record.key, record);
}

import type { Kysely } from 'kysely';
import { recordAuditEvent } from '../accounts/audit.ts';
import { generateToken, hashToken } from '../accounts/tokens.ts';
import { fetchCurrentUser, probeApiKey, type PagerDutyUser } from '../connectors/pagerduty/identity.ts';
import {
  buildAuthorizationUrl,
  exchangeAuthorizationCode,
  generateAuthorizationSecrets,
  type AuthorizationFailureKind,
  type GrantIdentity,
} from '../connectors/pagerduty/oauth.ts';
import { regionOfApiBaseUrl } from '../connectors/pagerduty/provider.ts';
import type { ConnectionMethod, DB } from '../db/schema.ts';
import type { Logger } from '../lib/logger.ts';
import { err, ok, type Result } from '../lib/result.ts';
import { saveCredentials } from './credentials.ts';
import { archiveConnection, findPagerDutyConnection, upsertPagerDutyConnection } from './repository.ts';
import type { Vault } from './vault.ts';

/** How long a started authorization may take before its `state` expires. */
export const STATE_LIFETIME_MS = 10 * 60 * 1000;

/**
 * The outcomes of the OAuth callback, with the sentence the connections card shows for each.
 * The codes travel in `/apps/pagerduty?result=<code>`, so they are stable.
 */
export const CONNECT_RESULTS = {
  connected: { kind: 'success', message: 'PagerDuty is connected. Seatwise started a sync; its progress and outcome show on this card.' },
  account_switched: {
    kind: 'success',
    message:
      'Seatwise switched to the PagerDuty account you signed in to. The previous account’s data is archived and no longer shown, so the two never mix. The first sync of the new account has started.',
  },
  access_denied: {
    kind: 'error',
    message: 'You chose Deny in PagerDuty, so nothing was connected. Click Connect to try again.',
  },
  state_invalid: {
    kind: 'error',
    message: 'The sign-in link to PagerDuty expired or was already used, so nothing changed. If PagerDuty is not connected, click Connect to start again.',
  },
  token_exchange_failed: {
    kind: 'error',
    message: 'PagerDuty did not accept the authorization. Try again, and contact support if it keeps failing.',
  },
  scope_insufficient: {
    kind: 'error',
    message:
      'PagerDuty granted less access than Seatwise asked for (read-only access to the account), so nothing was connected. Check the app’s permissions in PagerDuty and click Connect again.',
  },
  id_token_invalid: {
    kind: 'error',
    message: 'PagerDuty’s response could not be verified, so nothing was connected. Try again, and contact support if it keeps failing.',
  },
  account_mismatch: {
    kind: 'error',
    message:
      'You signed in to a different PagerDuty account than the one whose data Seatwise contains, so nothing was changed. Reconnect with that account, or switch to the other account below.',
  },
} as const satisfies Record<string, { kind: 'success' | 'error'; message: string }>;

export type ConnectResultCode = keyof typeof CONNECT_RESULTS;

export function isConnectResultCode(value: string): value is ConnectResultCode {
  return Object.hasOwn(CONNECT_RESULTS, value);
}

/** PagerDuty base roles whose tokens see the whole account, including licenses and audit records. */
const PAGERDUTY_ADMIN_ROLES = new Set(['owner', 'admin']);

export interface ConnectDeps {
  db: Kysely<DB>;
  vault: Vault;
  logger: Logger;
  pagerduty: { clientId: string; clientSecret: string; identityUrl: string; scope: string; allowedApiBaseUrls: string[] };
  jobs: { enqueueSync(connectionId: string, trigger: 'connect' | 'manual' | 'schedule'): Promise<string> };
}

export interface ConnectStart {
  organizationId: string;
  /** The Seatwise user who clicked Connect; null for an invitee without an account. */
  userId: string | null;
  inviteId: string | null;
  /**
   * The SHA-256 of a secret that only the starting browser has (its session token or the invite
   * cookie), because the callback must come from the same browser.
   */
  browserBindingHash: string;
  redirectUri: string;
  /** The path inside Seatwise that the browser returns to after the callback. */
  returnPath: string;
  /**
   * The user confirmed that a different PagerDuty account may replace the connected one, whose
   * connection and data are then archived. Without it a different account is rejected.
   */
  isAccountSwitchConfirmed: boolean;
}

/**
 * Starts an authorization: stores a single-use `state` (only its hash, with the PKCE verifier
 * and nonce sealed by the vault) and returns PagerDuty's authorize URL.
 */
export async function startConnect(deps: ConnectDeps, start: ConnectStart, now = new Date()): Promise<URL> {
  const secrets = generateAuthorizationSecrets();
  const verifier = deps.vault.seal(secrets.codeVerifier);
  const nonce = deps.vault.seal(secrets.nonce);

  await deps.db
    .insertInto('oauth_states')
    .values({
      state_hash: hashToken(secrets.state),
      organization_id: start.organizationId,
      session_token_hash: start.browserBindingHash,
      invite_id: start.inviteId,
      user_id: start.userId,
      code_verifier_ciphertext: verifier.ciphertext,
      nonce_ciphertext: nonce.ciphertext,
      key_id: verifier.keyId,
      redirect_uri: start.redirectUri,
      return_path: start.returnPath,
      is_account_switch_confirmed: start.isAccountSwitchConfirmed,
      expires_at: new Date(now.getTime() + STATE_LIFETIME_MS),
    })
    .execute();

  return buildAuthorizationUrl(deps.pagerduty, { redirectUri: start.redirectUri, scope: deps.pagerduty.scope, secrets });
}

export interface ConnectOutcome {
  code: ConnectResultCode;
  /** A path inside Seatwise: the one stored with the state, or the app page when none is known. */
  returnPath: string;
  organizationId: string | null;
  inviteId: string | null;
  connectionId: string | null;
  /** The failure, for the log. It may name the account but never contains a secret. */
  detail: string | null;
}

export const DEFAULT_RETURN_PATH = '/apps/pagerduty';

/**
 * Completes an authorization from PagerDuty's redirect: checks the state, exchanges the code,
 * verifies the ID token and scope, stores the connection and its sealed tokens, and enqueues
 * the first sync. A different account than the connected one is rejected unless the state
 * carries the user's confirmation, and then the old connection is archived with its data.
 */
export async function completeConnect(
  deps: ConnectDeps,
  callback: { parameters: URLSearchParams; browserBindingHashes: string[] },
  now = new Date(),
): Promise<ConnectOutcome> {
  const stateRow = await consumeState(deps.db, callback.parameters.get('state'), now);
  if (!stateRow) return failure('state_invalid', null, 'The state is unknown or was already used');
  if (stateRow.expires_at.getTime() <= now.getTime()) return failure('state_invalid', stateRow, 'The state expired');
  if (stateRow.session_token_hash === null || !callback.browserBindingHashes.includes(stateRow.session_token_hash)) {
    return failure('state_invalid', stateRow, 'The state belongs to another browser session');
  }

  const secrets = {
    state: callback.parameters.get('state') ?? '',
    codeVerifier: deps.vault.open({ keyId: stateRow.key_id, ciphertext: stateRow.code_verifier_ciphertext }),
    nonce: deps.vault.open({ keyId: stateRow.key_id, ciphertext: stateRow.nonce_ciphertext }),
  };
  const grant = await exchangeAuthorizationCode(deps.pagerduty, {
    callbackParameters: callback.parameters,
    secrets,
    redirectUri: stateRow.redirect_uri,
    requestedScope: deps.pagerduty.scope,
    allowedApiBaseUrls: deps.pagerduty.allowedApiBaseUrls,
  });
  if (!grant.ok) return failure(resultCodeOf(grant.error.kind), stateRow, grant.error.message);
  const { tokens, identity } = grant.value;

  const existing = await findPagerDutyConnection(deps.db, stateRow.organization_id);
  const isOtherAccount = existing !== null && existing.accountId !== null && existing.accountId !== identity.accountId;
  const replaced = existing !== null && isOtherAccount && (await holdsAccountData(deps.db, existing)) ? existing : null;
  if (replaced !== null && !stateRow.is_account_switch_confirmed) {
    return failure('account_mismatch', stateRow, `The token is for account ${identity.subdomain}, not ${replaced.subdomain ?? replaced.accountId}`);
  }

  const pagerDutyUser = await readConnectingUser(deps, identity, tokens.accessToken);
  const connectionId = await deps.db.transaction().execute(async (trx) => {
    if (replaced !== null) {
      await archiveConnection(trx, replaced, `Archived when the organization switched to the PagerDuty account ${identity.subdomain}.`, now);
      await recordAuditEvent(trx, {
        organizationId: stateRow.organization_id,
        actorUserId: stateRow.user_id,
        actorLabel: pagerDutyUser ? `${pagerDutyUser.email} (PagerDuty)` : `PagerDuty user ${identity.userId}`,
        action: 'pagerduty.archived',
        details: { connectionId: replaced.id, subdomain: replaced.subdomain, replacedBySubdomain: identity.subdomain },
      });
    }
    const id = await upsertPagerDutyConnection(trx, {
      organizationId: stateRow.organization_id,
      method: methodOf(deps.pagerduty.scope),
      accountId: identity.accountId,
      subdomain: identity.subdomain,
      region: identity.region,
      apiBaseUrl: identity.apiBaseUrl,
      grantedScope: tokens.scope,
      delegationId: identity.delegationId,
      connectedByUserId: stateRow.user_id,
      providerUser: pagerDutyUser,
      statusReason: limitedAccessReason(pagerDutyUser),
    });
    await saveCredentials(trx, deps.vault, id, {
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken,
      accessTokenExpiresAt: tokens.accessTokenExpiresAt,
    });
    if (stateRow.invite_id !== null) {
      await trx
        .updateTable('pagerduty_invites')
        .set({ used_at: now, connection_id: id, outcome_message: limitedAccessReason(pagerDutyUser) })
        .where('id', '=', stateRow.invite_id)
        .where('organization_id', '=', stateRow.organization_id)
        .execute();
    }
    await recordAuditEvent(trx, {
      organizationId: stateRow.organization_id,
      actorUserId: stateRow.user_id,
      actorLabel: pagerDutyUser ? `${pagerDutyUser.email} (PagerDuty)` : `PagerDuty user ${identity.userId}`,
      action: 'pagerduty.connected',
      details: { subdomain: identity.subdomain, region: identity.region, scope: tokens.scope, viaInvite: stateRow.invite_id !== null },
    });
    return id;
  });

  await enqueueFirstSync(deps, connectionId);
  return {
    code: replaced === null ? 'connected' : 'account_switched',
    returnPath: stateRow.return_path,
    organizationId: stateRow.organization_id,
    inviteId: stateRow.invite_id,
    connectionId,
    detail: null,
  };
}

/**
 * Checks whether a connection still contains an account's data. It does while live, and after a
 * disconnect that kept the synced data, because its sync runs survive until the data is deleted.
 */
async function holdsAccountData(db: Kysely<DB>, connection: { id: string; status: string }): Promise<boolean> {
  if (connection.status !== 'disconnected') return true;
  const run = await db.selectFrom('sync_runs').select('id').where('connection_id', '=', connection.id).limit(1).executeTakeFirst();
  return run !== undefined;
}

interface StateRow {
  organization_id: string;
  session_token_hash: string | null;
  invite_id: string | null;
  user_id: string | null;
  code_verifier_ciphertext: string;
  nonce_ciphertext: string;
  key_id: string;
  redirect_uri: string;
  return_path: string;
  is_account_switch_confirmed: boolean;
  expires_at: Date;
}

/**
 * Marks a state used and returns it, in one statement, so two callbacks racing with one state
 * cannot both pass. Unknown and already used states return null.
 */
async function consumeState(db: Kysely<DB>, state: string | null, now: Date): Promise<StateRow | null> {
  if (state === null || state === '') return null;
  const row = await db
    .updateTable('oauth_states')
    .set({ used_at: now })
    .where('state_hash', '=', hashToken(state))
    .where('used_at', 'is', null)
    .returning([
      'organization_id',
      'session_token_hash',
      'invite_id',
      'user_id',
      'code_verifier_ciphertext',
      'nonce_ciphertext',
      'key_id',
      'redirect_uri',
      'return_path',
      'is_account_switch_confirmed',
      'expires_at',
    ])
    .executeTakeFirst();
  return row ?? null;
}

function failure(code: ConnectResultCode, stateRow: StateRow | null, detail: string): ConnectOutcome {
  return {
    code,
    returnPath: stateRow?.return_path ?? DEFAULT_RETURN_PATH,
    organizationId: stateRow?.organization_id ?? null,
    inviteId: stateRow?.invite_id ?? null,
    connectionId: null,
    detail,
  };
}

function resultCodeOf(kind: AuthorizationFailureKind): ConnectResultCode {
  switch (kind) {
    // Each failure kind of the authorization is its own result code on the card.
    case 'access_denied':
    case 'token_exchange_failed':
    case 'id_token_invalid':
    case 'scope_insufficient':
      return kind;
    default: {
      const unreachable: never = kind;
      throw new Error(`Unknown authorization failure ${String(unreachable)}`);
    }
  }
}

/** Classic User OAuth has only the scopes `read` and `write`, so any other scope means Scoped OAuth. */
function methodOf(scope: string): ConnectionMethod {
  return scope === 'read' || scope === 'write' ? 'oauth_classic' : 'oauth_scoped';
}

/** Reads the PagerDuty user who consented. The connection is still stored when that read fails. */
async function readConnectingUser(deps: ConnectDeps, identity: GrantIdentity, accessToken: string): Promise<PagerDutyUser | null> {
  const user = await fetchCurrentUser(identity.apiBaseUrl, accessToken);
  if (user.ok) return user.value;
  deps.logger.warn({ subdomain: identity.subdomain, reason: user.error.message }, 'Failed to read the connecting PagerDuty user');
  return null;
}

function limitedAccessReason(user: PagerDutyUser | null): string | null {
  if (user === null || PAGERDUTY_ADMIN_ROLES.has(user.role)) return null;
  return `Connected as ${user.name}, whose PagerDuty role is ${user.role}, not admin or owner, so licenses, audit records and some people may be missing. Reconnect as a PagerDuty admin for complete data.`;
}

async function enqueueFirstSync(deps: ConnectDeps, connectionId: string): Promise<void> {
  try {
    await deps.jobs.enqueueSync(connectionId, 'connect');
  } catch (error) {
    deps.logger.error({ error: (error as Error).message, connectionId }, 'Failed to enqueue the first sync after connecting; start a sync from the PagerDuty app page');
  }
}

/** Generates a secret that binds an invitee's browser to the authorization it starts. */
export function generateBrowserBinding(): { value: string; hash: string } {
  const value = generateToken();
  return { value, hash: hashToken(value) };
}

export type ApiKeyConnectFailure = { code: 'api_key_invalid' | 'pagerduty_unavailable' | 'account_mismatch'; message: string };

/**
 * Connects with an account REST API key instead of OAuth: checks the key against the allowed
 * API hosts, stores it sealed, and enqueues the first sync. A key for another account than the
 * one whose data Seatwise contains is rejected unless the request carries the user's
 * confirmation, and then the old connection is archived with its data, as for OAuth.
 */
export async function connectWithApiKey(
  deps: ConnectDeps,
  request: { organizationId: string; userId: string; userLabel: string; apiKey: string; isAccountSwitchConfirmed: boolean },
  now = new Date(),
): Promise<Result<{ connectionId: string; isAccountSwitched: boolean }, ApiKeyConnectFailure>> {
  const probe = await probeApiKey(deps.pagerduty.allowedApiBaseUrls, request.apiKey);
  if (!probe.ok) {
    return probe.error.kind === 'unauthorized'
      ? err({ code: 'api_key_invalid', message: 'PagerDuty did not accept the API key. Check that it is an account REST API key (read-only is enough) and paste it again.' })
      : err({ code: 'pagerduty_unavailable', message: `PagerDuty could not be reached to check the API key (${probe.error.message}). Try again in a few minutes.` });
  }
  const account = probe.value;

  // An account whose subdomain is unknown on either side cannot be shown to be the same one, so it
  // counts as another account, because mixing two accounts' data is worse than asking for a confirmation.
  const existing = await findPagerDutyConnection(deps.db, request.organizationId);
  const isSameAccount = existing !== null && existing.subdomain !== null && existing.subdomain === account.subdomain;
  const replaced = existing !== null && !isSameAccount && (await holdsAccountData(deps.db, existing)) ? existing : null;
  if (replaced !== null && !request.isAccountSwitchConfirmed) {
    return err({ code: 'account_mismatch', message: apiKeyMismatchMessage(replaced.subdomain, account.subdomain) });
  }

  const connectionId = await deps.db.transaction().execute(async (trx) => {
    if (replaced !== null) {
      await archiveConnection(trx, replaced, `Archived when the organization switched to the PagerDuty account ${account.subdomain ?? 'of an API key'}.`, now);
      await recordAuditEvent(trx, {
        organizationId: request.organizationId,
        actorUserId: request.userId,
        actorLabel: request.userLabel,
        action: 'pagerduty.archived',
        details: { connectionId: replaced.id, subdomain: replaced.subdomain, replacedBySubdomain: account.subdomain, method: 'api_key' },
      });
    }
    const id = await upsertPagerDutyConnection(trx, {
      organizationId: request.organizationId,
      method: 'api_key',
      // The probe learns no account id, so one is kept only while the account stays the same.
      accountId: isSameAccount ? (existing?.accountId ?? null) : null,
      subdomain: account.subdomain,
      region: regionOfHost(account.apiBaseUrl, deps.pagerduty.allowedApiBaseUrls),
      apiBaseUrl: account.apiBaseUrl,
      grantedScope: 'api_key',
      delegationId: null,
      connectedByUserId: request.userId,
      providerUser: null,
      statusReason: null,
    });
    await saveCredentials(trx, deps.vault, id, { accessToken: request.apiKey, refreshToken: null, accessTokenExpiresAt: null });
    await recordAuditEvent(trx, {
      organizationId: request.organizationId,
      actorUserId: request.userId,
      actorLabel: request.userLabel,
      action: 'pagerduty.connected',
      details: { subdomain: account.subdomain, method: 'api_key', isAccountSwitched: replaced !== null },
    });
    return id;
  });

  await enqueueFirstSync(deps, connectionId);
  return ok({ connectionId, isAccountSwitched: replaced !== null });
}

function apiKeyMismatchMessage(connectedSubdomain: string | null, keySubdomain: string | null): string {
  const connected = connectedSubdomain ?? 'the connected account';
  const offered = keySubdomain === null ? 'an account Seatwise cannot identify' : `the PagerDuty account ${keySubdomain}`;
  return (
    `This API key belongs to ${offered}, not ${connected}, whose data Seatwise contains, so nothing was changed. ` +
    `To switch, confirm that the data of the two accounts must not mix: the data of ${connected} is then archived and no longer shown.`
  );
}

/** PagerDuty's EU host, or the second configured host (the simulator's EU port), is `eu`. */
function regionOfHost(apiBaseUrl: string, allowedApiBaseUrls: readonly string[]): 'us' | 'eu' {
  const known = regionOfApiBaseUrl(apiBaseUrl);
  if (known !== null) return known;
  return allowedApiBaseUrls.indexOf(apiBaseUrl) === 1 ? 'eu' : 'us';
}

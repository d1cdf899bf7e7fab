import { createRemoteJWKSet, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import * as oauth from 'oauth4webapi';
import { z } from 'zod';
import { err, ok, type Result } from '../../lib/result.ts';
import type { PagerDutyRegion } from './provider.ts';

/**
 * PagerDuty's OAuth 2.0 authorization-code flow with PKCE (RFC 6749, RFC 7636) and its OpenID
 * ID token. PagerDuty serves US and EU accounts from one identity host; the ID token's `aud`
 * names the REST API host of the account.
 */

export interface OAuthClient {
  clientId: string;
  clientSecret: string;
  /** The identity host, such as https://identity.pagerduty.com, without a trailing slash. */
  identityUrl: string;
}

/** The secrets of one authorization request, kept by Seatwise until the callback. */
export interface AuthorizationSecrets {
  state: string;
  codeVerifier: string;
  nonce: string;
}

/** The account and user an authorization was granted for, from the verified ID token. */
export interface GrantIdentity {
  accountId: string;
  subdomain: string;
  region: PagerDutyRegion;
  apiBaseUrl: string;
  userId: string;
  delegationId: string | null;
}

export interface TokenSet {
  accessToken: string;
  refreshToken: string;
  accessTokenExpiresAt: Date;
  scope: string;
}

export type AuthorizationFailureKind = 'access_denied' | 'token_exchange_failed' | 'id_token_invalid' | 'scope_insufficient';

export interface AuthorizationFailure {
  kind: AuthorizationFailureKind;
  message: string;
}

/**
 * Lifetime assumed when a token response omits `expires_in`: the one day of Scoped OAuth, the
 * shortest PagerDuty documents, so Seatwise refreshes too early rather than too late.
 */
const DEFAULT_ACCESS_TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;

const LOOPBACK_HOSTNAMES = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/** Describes the PagerDuty identity host as oauth4webapi's authorization server metadata. */
function authorizationServer(identityUrl: string): oauth.AuthorizationServer {
  return {
    issuer: `${identityUrl}/global/oauth/anonymous`,
    authorization_endpoint: `${identityUrl}/oauth/authorize`,
    token_endpoint: `${identityUrl}/oauth/token`,
    jwks_uri: `${identityUrl}/global/oauth/anonymous/jwks`,
  };
}

/**
 * oauth4webapi rejects plain-http endpoints unless an option allows them. That is allowed only for a
 * loopback identity host (the simulator); any other http URL is a configuration error.
 */
function requestOptions(identityUrl: string): { [oauth.allowInsecureRequests]?: boolean } {
  const url = new URL(identityUrl);
  if (url.protocol === 'https:') return {};
  if (url.protocol === 'http:' && LOOPBACK_HOSTNAMES.has(url.hostname)) return { [oauth.allowInsecureRequests]: true };
  throw new Error(`The PagerDuty identity URL ${identityUrl} must use https (plain http is allowed only on loopback); fix PAGERDUTY_IDENTITY_URL`);
}

export function generateAuthorizationSecrets(): AuthorizationSecrets {
  return {
    state: oauth.generateRandomState(),
    codeVerifier: oauth.generateRandomCodeVerifier(),
    nonce: oauth.generateRandomNonce(),
  };
}

/** Builds the URL of PagerDuty's authorize page for one authorization request. */
export async function buildAuthorizationUrl(
  client: Pick<OAuthClient, 'clientId' | 'identityUrl'>,
  request: { redirectUri: string; scope: string; secrets: AuthorizationSecrets },
): Promise<URL> {
  requestOptions(client.identityUrl);
  const url = new URL(authorizationServer(client.identityUrl).authorization_endpoint!);
  url.searchParams.set('client_id', client.clientId);
  url.searchParams.set('redirect_uri', request.redirectUri);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', request.scope);
  url.searchParams.set('state', request.secrets.state);
  url.searchParams.set('nonce', request.secrets.nonce);
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(request.secrets.codeVerifier));
  url.searchParams.set('code_challenge_method', 'S256');
  return url;
}

export interface CodeExchangeRequest {
  /** The query parameters PagerDuty redirected back with. */
  callbackParameters: URLSearchParams;
  secrets: AuthorizationSecrets;
  redirectUri: string;
  requestedScope: string;
  /** REST API hosts the ID token's `aud` may name; any other host is refused. */
  allowedApiBaseUrls: readonly string[];
}

/**
 * Completes an authorization: reads the callback parameters, exchanges the code, verifies the
 * ID token (signature against the JWKS, issuer, audience, expiry, nonce) and checks that the
 * granted scope contains every requested scope.
 */
export async function exchangeAuthorizationCode(
  client: OAuthClient,
  request: CodeExchangeRequest,
): Promise<Result<{ tokens: TokenSet; identity: GrantIdentity }, AuthorizationFailure>> {
  const as = authorizationServer(client.identityUrl);
  const oauthClient: oauth.Client = { client_id: client.clientId };
  const options = requestOptions(client.identityUrl);

  const parameters = readCallbackParameters(as, oauthClient, request.callbackParameters, request.secrets.state);
  if (!parameters.ok) return parameters;

  let response: oauth.TokenEndpointResponse;
  try {
    const httpResponse = await oauth.authorizationCodeGrantRequest(
      as,
      oauthClient,
      oauth.ClientSecretPost(client.clientSecret),
      parameters.value,
      request.redirectUri,
      request.secrets.codeVerifier,
      options,
    );
    response = await oauth.processAuthorizationCodeResponse(as, oauthClient, httpResponse, {
      expectedNonce: request.secrets.nonce,
      requireIdToken: true,
    });
  } catch (error) {
    return err(describeExchangeError(error));
  }

  const identity = await verifyIdToken(client, response.id_token ?? '', request.secrets.nonce, request.allowedApiBaseUrls);
  if (!identity.ok) return identity;

  const scope = checkGrantedScope(response.scope, request.requestedScope);
  if (!scope.ok) return scope;

  if (response.refresh_token === undefined) {
    return err({ kind: 'token_exchange_failed', message: 'PagerDuty returned no refresh token, so access could not be kept beyond the first token.' });
  }
  return ok({
    tokens: {
      accessToken: response.access_token,
      refreshToken: response.refresh_token,
      accessTokenExpiresAt: expiryOf(response.expires_in),
      scope: scope.value,
    },
    identity: identity.value,
  });
}

/** Checks `state` and reads an error PagerDuty redirected back with, such as a Deny. */
function readCallbackParameters(
  as: oauth.AuthorizationServer,
  client: oauth.Client,
  callbackParameters: URLSearchParams,
  expectedState: string,
): Result<URLSearchParams, AuthorizationFailure> {
  try {
    return ok(oauth.validateAuthResponse(as, client, callbackParameters, expectedState));
  } catch (error) {
    if (error instanceof oauth.AuthorizationResponseError) {
      if (error.error === 'access_denied') {
        return err({ kind: 'access_denied', message: 'The PagerDuty user chose Deny, so nothing was connected.' });
      }
      return err({ kind: 'token_exchange_failed', message: `PagerDuty returned the authorization error ${error.error}.` });
    }
    if (error instanceof oauth.OperationProcessingError) {
      return err({ kind: 'token_exchange_failed', message: `The authorization response is invalid: ${error.message}.` });
    }
    throw error;
  }
}

function describeExchangeError(error: unknown): AuthorizationFailure {
  if (error instanceof oauth.ResponseBodyError) {
    return { kind: 'token_exchange_failed', message: `PagerDuty's token endpoint rejected the code with ${error.error} (HTTP ${error.status}).` };
  }
  if (error instanceof oauth.OperationProcessingError && error.code?.startsWith('OAUTH_JWT') === true) {
    return { kind: 'id_token_invalid', message: `The ID token is invalid: ${error.message}.` };
  }
  if (error instanceof oauth.OperationProcessingError || error instanceof oauth.UnsupportedOperationError) {
    return { kind: 'token_exchange_failed', message: `PagerDuty's token response is invalid: ${error.message}.` };
  }
  if (error instanceof TypeError) {
    return { kind: 'token_exchange_failed', message: `PagerDuty's token endpoint could not be reached: ${error.message}.` };
  }
  throw error;
}

/** The claims Seatwise reads from PagerDuty's ID token, beyond those jose checks. */
const idTokenClaimsSchema = z.object({
  sub: z.string().min(1),
  aud: z.union([z.string(), z.array(z.string())]),
  nonce: z.string(),
  account_id: z.string().min(1),
  subdomain: z.string().min(1),
  user_id: z.string().min(1),
  region: z.string().optional(),
  delegation_id: z.string().min(1).optional(),
});

const remoteKeySets = new Map<string, ReturnType<typeof createRemoteJWKSet>>();

function keySetOf(identityUrl: string): ReturnType<typeof createRemoteJWKSet> {
  let keySet = remoteKeySets.get(identityUrl);
  if (!keySet) {
    keySet = createRemoteJWKSet(new URL(authorizationServer(identityUrl).jwks_uri!));
    remoteKeySets.set(identityUrl, keySet);
  }
  return keySet;
}

async function verifyIdToken(
  client: OAuthClient,
  idToken: string,
  expectedNonce: string,
  allowedApiBaseUrls: readonly string[],
): Promise<Result<GrantIdentity, AuthorizationFailure>> {
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(idToken, keySetOf(client.identityUrl), {
      issuer: authorizationServer(client.identityUrl).issuer,
      audience: client.clientId,
      algorithms: ['RS256'],
      requiredClaims: ['exp', 'iat', 'sub'],
    }));
  } catch (error) {
    if (error instanceof joseErrors.JOSEError) {
      return err({ kind: 'id_token_invalid', message: `The ID token failed verification (${error.code}): ${error.message}.` });
    }
    throw error;
  }

  const parsed = idTokenClaimsSchema.safeParse(payload);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return err({ kind: 'id_token_invalid', message: `The ID token claim ${issue?.path.join('.') ?? '?'} is missing or invalid.` });
  }
  const claims = parsed.data;
  if (claims.nonce !== expectedNonce) {
    return err({ kind: 'id_token_invalid', message: 'The ID token nonce does not match the authorization request.' });
  }

  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  const apiBaseUrl = audiences.map((audience) => audience.replace(/\/+$/, '')).find((audience) => allowedApiBaseUrls.includes(audience));
  if (apiBaseUrl === undefined) {
    const named = audiences.filter((audience) => audience !== client.clientId).join(', ') || 'none';
    return err({ kind: 'id_token_invalid', message: `The ID token names the API host ${named}, which is not an allowed PagerDuty API host.` });
  }

  return ok({
    accountId: claims.account_id,
    subdomain: claims.subdomain,
    region: regionOf(claims.region, apiBaseUrl),
    apiBaseUrl,
    userId: claims.user_id,
    delegationId: claims.delegation_id ?? null,
  });
}

/** PagerDuty's `region` claim reads `UnitedStates` or `EuropeanUnion`; the API host decides otherwise. */
function regionOf(regionClaim: string | undefined, apiBaseUrl: string): PagerDutyRegion {
  if (regionClaim === 'EuropeanUnion') return 'eu';
  if (regionClaim === 'UnitedStates') return 'us';
  return new URL(apiBaseUrl).hostname.includes('.eu.') ? 'eu' : 'us';
}

/**
 * PagerDuty grants an invalid scope silently as `openid` alone, so the returned scope must
 * contain every requested scope.
 */
function checkGrantedScope(grantedScope: string | undefined, requestedScope: string): Result<string, AuthorizationFailure> {
  const granted = new Set((grantedScope ?? '').split(' ').filter(Boolean));
  const missing = requestedScope.split(' ').filter((scope) => scope !== '' && !granted.has(scope));
  if (missing.length > 0) {
    return err({
      kind: 'scope_insufficient',
      message: `PagerDuty granted the scope "${grantedScope ?? ''}" without ${missing.join(', ')}, so Seatwise cannot read the account.`,
    });
  }
  return ok([...granted].join(' '));
}

function expiryOf(expiresInSeconds: number | undefined, now = Date.now()): Date {
  return new Date(now + (expiresInSeconds ?? DEFAULT_ACCESS_TOKEN_LIFETIME_SECONDS) * 1000);
}

/**
 * Exchanges a refresh token for new tokens. PagerDuty rotates refresh tokens, so the caller
 * must store the returned one and treat the old one as spent. `invalid_grant` means the grant
 * is gone (revoked, expired or already used) and only a reconnect helps; `temporary` failures
 * may be retried.
 */
export async function refreshAccessToken(
  client: OAuthClient,
  refreshToken: string,
): Promise<Result<TokenSet, { kind: 'invalid_grant' | 'temporary'; message: string }>> {
  const as = authorizationServer(client.identityUrl);
  const oauthClient: oauth.Client = { client_id: client.clientId };
  try {
    const httpResponse = await oauth.refreshTokenGrantRequest(
      as,
      oauthClient,
      oauth.ClientSecretPost(client.clientSecret),
      refreshToken,
      requestOptions(client.identityUrl),
    );
    const response = await oauth.processRefreshTokenResponse(as, oauthClient, httpResponse);
    return ok({
      accessToken: response.access_token,
      // RFC 6749 section 6: without a new refresh token the old one stays valid.
      refreshToken: response.refresh_token ?? refreshToken,
      accessTokenExpiresAt: expiryOf(response.expires_in),
      scope: response.scope ?? '',
    });
  } catch (error) {
    if (error instanceof oauth.ResponseBodyError) {
      if (error.status >= 500 || error.status === 429) {
        return err({ kind: 'temporary', message: `PagerDuty's token endpoint failed with HTTP ${error.status} (${error.error}).` });
      }
      return err({ kind: 'invalid_grant', message: `PagerDuty rejected the refresh token with ${error.error} (HTTP ${error.status}).` });
    }
    if (error instanceof oauth.OperationProcessingError || error instanceof oauth.UnsupportedOperationError) {
      return err({ kind: 'temporary', message: `PagerDuty's token response is invalid: ${error.message}.` });
    }
    if (error instanceof TypeError) {
      return err({ kind: 'temporary', message: `PagerDuty's token endpoint could not be reached: ${error.message}.` });
    }
    throw error;
  }
}

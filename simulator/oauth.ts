import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SignJWT } from 'jose';
import { z } from 'zod';
import { accountApiUrl, type SimulatorContext } from './context.ts';
import { grantScopes, type Delegation } from './credentials.ts';
import { readBody, redirect, sendHtml, sendJson } from './http-kit.ts';
import { consentPage, errorPage, loginPage, pagePolicy } from './pages.ts';

/** Authorization codes must be exchanged within 30 seconds (PagerDuty's OAuth documentation). */
export const AUTHORIZATION_CODE_LIFETIME_MS = 30_000;
/** How long a login and consent round may take before the person must start again. */
const PENDING_AUTHORIZATION_LIFETIME_MS = 10 * 60_000;
const ID_TOKEN_LIFETIME_SECONDS = 3600;

export const ISSUER_PATH = '/global/oauth/anonymous';
export const JWKS_PATH = '/global/oauth/anonymous/jwks';

/** Routes the identity paths; returns false when the path is not one of them. */
export async function handleIdentity(context: SimulatorContext, request: IncomingMessage, response: ServerResponse, url: URL): Promise<boolean> {
  const route = `${request.method ?? 'GET'} ${url.pathname}`;
  switch (route) {
    case 'GET /oauth/authorize':
      startAuthorization(context, response, url.searchParams);
      return true;
    case 'POST /oauth/authorize/login':
      await submitLogin(context, request, response);
      return true;
    case 'GET /oauth/authorize/consent':
      showConsent(context, response, url.searchParams.get('request') ?? '');
      return true;
    case 'POST /oauth/authorize/consent':
      await submitConsent(context, request, response);
      return true;
    case 'POST /oauth/token':
      await exchangeToken(context, request, response);
      return true;
    case `GET ${JWKS_PATH}`:
      sendJson(response, 200, { keys: [context.signing.publicJwk] });
      return true;
    case `GET ${ISSUER_PATH}/.well-known/openid-configuration`:
      sendJson(response, 200, openIdConfiguration(context));
      return true;
    default:
      return false;
  }
}

function openIdConfiguration(context: SimulatorContext): Record<string, unknown> {
  const identity = context.urls.identityUrl;
  return {
    issuer: `${identity}${ISSUER_PATH}`,
    authorization_endpoint: `${identity}/oauth/authorize`,
    token_endpoint: `${identity}/oauth/token`,
    jwks_uri: `${identity}${JWKS_PATH}`,
    response_types_supported: ['code'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
  };
}

function isRedirectUriAllowed(context: SimulatorContext, redirectUri: string): boolean {
  if (context.settings.redirectUris !== undefined) return context.settings.redirectUris.includes(redirectUri);
  let parsed: URL;
  try {
    parsed = new URL(redirectUri);
  } catch {
    return false;
  }
  return parsed.protocol === 'http:' && (parsed.hostname === '127.0.0.1' || parsed.hostname === 'localhost') && parsed.hash === '';
}

const PKCE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/** Leg 1: checks the client and redirect URI (errors are shown, never redirected), then shows the login form. */
function startAuthorization(context: SimulatorContext, response: ServerResponse, params: URLSearchParams): void {
  const clientId = params.get('client_id') ?? '';
  const redirectUri = params.get('redirect_uri') ?? '';
  if (clientId !== context.settings.clientId) {
    sendHtml(response, 400, errorPage('Unknown app', `No app is registered with client_id "${clientId}". Check the client id the app sends.`), pagePolicy());
    return;
  }
  if (!isRedirectUriAllowed(context, redirectUri)) {
    sendHtml(response, 400, errorPage('Redirect URI not allowed', `The redirect_uri "${redirectUri}" is not registered for this app.`), pagePolicy());
    return;
  }

  const state = params.get('state') ?? undefined;
  const redirectError = (error: string, description: string): void => {
    redirect(response, withQuery(redirectUri, { error, error_description: description, state }));
  };
  if (params.get('response_type') !== 'code') {
    redirectError('unsupported_response_type', 'response_type must be "code"');
    return;
  }
  const codeChallenge = params.get('code_challenge') ?? undefined;
  const challengeMethod = params.get('code_challenge_method') ?? undefined;
  if (codeChallenge !== undefined || challengeMethod !== undefined) {
    if (challengeMethod !== 'S256') {
      redirectError('invalid_request', 'code_challenge_method must be S256');
      return;
    }
    if (codeChallenge === undefined || !PKCE_CHALLENGE.test(codeChallenge)) {
      redirectError('invalid_request', 'code_challenge must be the unpadded base64url SHA-256 of the code_verifier (43 characters)');
      return;
    }
  }

  const pending = {
    id: randomBytes(18).toString('base64url'),
    clientId,
    redirectUri,
    state,
    scopes: grantScopes(params.get('scope') ?? undefined),
    codeChallenge,
    nonce: params.get('nonce') ?? undefined,
    userId: undefined,
    expiresAtMs: context.clock.nowMs() + PENDING_AUTHORIZATION_LIFETIME_MS,
  };
  context.pendingAuthorizations.set(pending.id, pending);
  sendHtml(response, 200, loginPage({ requestId: pending.id, demoEmail: context.account.owner.email, demoPassword: context.settings.demoPassword }), pagePolicy());
}

const loginForm = z.object({ request: z.string().min(1), email: z.string(), password: z.string() });
const consentForm = z.object({ request: z.string().min(1), decision: z.enum(['authorize', 'deny']) });

async function readForm<T>(request: IncomingMessage, schema: z.ZodType<T>): Promise<T | null> {
  const parsed = schema.safeParse(Object.fromEntries(new URLSearchParams(await readBody(request))));
  return parsed.success ? parsed.data : null;
}

function findPending(context: SimulatorContext, id: string) {
  const pending = context.pendingAuthorizations.get(id);
  if (pending === undefined || pending.expiresAtMs <= context.clock.nowMs()) return undefined;
  return pending;
}

function expiredRequestPage(response: ServerResponse): void {
  sendHtml(response, 400, errorPage('Sign-in expired', 'This sign-in request is unknown or has expired. Start again from the app.'), pagePolicy());
}

async function submitLogin(context: SimulatorContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const form = await readForm(request, loginForm);
  const pending = form === null ? undefined : findPending(context, form.request);
  if (form === null || pending === undefined) {
    expiredRequestPage(response);
    return;
  }

  const user = context.account.users.find((candidate) => candidate.email.toLowerCase() === form.email.trim().toLowerCase());
  if (user === undefined || form.password !== context.settings.demoPassword) {
    const page = loginPage({
      requestId: pending.id,
      demoEmail: context.account.owner.email,
      demoPassword: context.settings.demoPassword,
      email: form.email,
      error: 'The email or password is incorrect.',
    });
    sendHtml(response, 401, page, pagePolicy());
    return;
  }

  pending.userId = user.id;
  redirect(response, `/oauth/authorize/consent?request=${encodeURIComponent(pending.id)}`, 303);
}

function showConsent(context: SimulatorContext, response: ServerResponse, requestId: string): void {
  const pending = findPending(context, requestId);
  const user = pending?.userId === undefined ? undefined : context.account.users.find((candidate) => candidate.id === pending.userId);
  if (pending === undefined || user === undefined) {
    expiredRequestPage(response);
    return;
  }
  const page = consentPage({
    requestId: pending.id,
    appName: context.settings.appName,
    subdomain: context.account.subdomain,
    regionLabel: context.account.region === 'eu' ? 'EU service region' : 'US service region',
    userName: user.name,
    userEmail: user.email,
    scopes: pending.scopes,
  });
  sendHtml(response, 200, page, pagePolicy([new URL(pending.redirectUri).origin]));
}

async function submitConsent(context: SimulatorContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const form = await readForm(request, consentForm);
  const pending = form === null ? undefined : findPending(context, form.request);
  if (form === null || pending === undefined || pending.userId === undefined) {
    expiredRequestPage(response);
    return;
  }
  context.pendingAuthorizations.delete(pending.id);

  if (form.decision === 'deny') {
    redirect(response, withQuery(pending.redirectUri, { error: 'access_denied', error_description: 'The user denied access to the app.', state: pending.state }), 303);
    return;
  }

  const code = randomBytes(24).toString('base64url');
  context.authorizationCodes.set(code, {
    code,
    clientId: pending.clientId,
    redirectUri: pending.redirectUri,
    codeChallenge: pending.codeChallenge,
    nonce: pending.nonce,
    userId: pending.userId,
    scopes: pending.scopes,
    expiresAtMs: context.clock.nowMs() + AUTHORIZATION_CODE_LIFETIME_MS,
    isUsed: false,
  });
  redirect(response, withQuery(pending.redirectUri, { code, state: pending.state }), 303);
}

function withQuery(base: string, params: Record<string, string | undefined>): string {
  const url = new URL(base);
  for (const [key, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(key, value);
  return url.toString();
}

type TokenError = 'invalid_request' | 'invalid_client' | 'invalid_grant';

/** Token endpoint errors: always HTTP 400 with an OAuth error code (RFC 6749 section 5.2). */
function tokenError(response: ServerResponse, error: TokenError, description: string): void {
  sendJson(response, 400, { error, error_description: description });
}

const authorizationCodeGrant = z.object({
  grant_type: z.literal('authorization_code'),
  code: z.string().min(1),
  redirect_uri: z.string().min(1),
  code_verifier: z.string().optional(),
});
const refreshTokenGrant = z.object({ grant_type: z.literal('refresh_token'), refresh_token: z.string().min(1) });

/** `POST /oauth/token`: form-encoded authorization_code and refresh_token grants. */
async function exchangeToken(context: SimulatorContext, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  const body = await readBody(request);
  if (contentType !== 'application/x-www-form-urlencoded') {
    tokenError(response, 'invalid_request', 'The token request must be sent as application/x-www-form-urlencoded.');
    return;
  }

  const failure = context.faults.nextTokenExchange;
  if (failure !== null) {
    context.faults.nextTokenExchange = null;
    if (failure === 'server_error') sendJson(response, 500, { error: 'server_error', error_description: 'Injected failure: the token endpoint failed.' });
    else tokenError(response, 'invalid_grant', 'Injected failure: the grant is invalid.');
    return;
  }

  const form = Object.fromEntries(new URLSearchParams(body));
  if (!authenticateClient(context, request, form)) {
    tokenError(response, 'invalid_client', 'Client authentication failed: check client_id and client_secret.');
    return;
  }

  switch (form.grant_type) {
    case 'authorization_code':
      await exchangeCode(context, response, form);
      return;
    case 'refresh_token':
      await refresh(context, response, form);
      return;
    default:
      tokenError(response, 'invalid_request', `grant_type "${form.grant_type ?? ''}" is not supported; use authorization_code or refresh_token.`);
  }
}

/** Accepts client_secret_post and client_secret_basic (RFC 6749 section 2.3.1). */
function authenticateClient(context: SimulatorContext, request: IncomingMessage, form: Record<string, string>): boolean {
  let clientId = form.client_id;
  let clientSecret = form.client_secret;
  const basic = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  if (basic?.[1] !== undefined) {
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const separator = decoded.indexOf(':');
    if (separator >= 0) {
      clientId = decodeURIComponent(decoded.slice(0, separator));
      clientSecret = decodeURIComponent(decoded.slice(separator + 1));
    }
  }
  return clientId === context.settings.clientId && clientSecret !== undefined && safeEqual(clientSecret, context.settings.clientSecret);
}

function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

async function exchangeCode(context: SimulatorContext, response: ServerResponse, form: Record<string, string>): Promise<void> {
  const parsed = authorizationCodeGrant.safeParse(form);
  if (!parsed.success) {
    tokenError(response, 'invalid_request', `Invalid authorization_code request: ${parsed.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; ')}`);
    return;
  }
  const grant = parsed.data;
  const record = context.authorizationCodes.get(grant.code);
  if (record === undefined || record.clientId !== context.settings.clientId) {
    tokenError(response, 'invalid_grant', 'The authorization code is unknown.');
    return;
  }
  if (record.isUsed) {
    tokenError(response, 'invalid_grant', 'The authorization code was already used.');
    return;
  }
  record.isUsed = true;
  if (record.expiresAtMs <= context.clock.nowMs()) {
    tokenError(response, 'invalid_grant', 'The authorization code expired: codes are valid for 30 seconds.');
    return;
  }
  if (record.redirectUri !== grant.redirect_uri) {
    tokenError(response, 'invalid_grant', 'redirect_uri does not match the one sent to the authorize endpoint.');
    return;
  }
  if (record.codeChallenge !== undefined) {
    const verifier = grant.code_verifier ?? '';
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    if (!/^[A-Za-z0-9._~-]{43,128}$/.test(verifier) || challenge !== record.codeChallenge) {
      tokenError(response, 'invalid_grant', 'code_verifier does not match the code_challenge.');
      return;
    }
  }

  const delegation: Delegation = {
    id: `P${randomBytes(9).toString('hex').toUpperCase().slice(0, 13)}`,
    userId: record.userId,
    clientId: record.clientId,
    scopes: record.scopes,
    createdAt: new Date(context.clock.nowMs()),
    isRevoked: false,
  };
  context.credentials.delegations.set(delegation.id, delegation);
  await sendTokens(context, response, delegation, record.nonce);
}

async function refresh(context: SimulatorContext, response: ServerResponse, form: Record<string, string>): Promise<void> {
  const parsed = refreshTokenGrant.safeParse(form);
  if (!parsed.success) {
    tokenError(response, 'invalid_request', 'Invalid refresh_token request: refresh_token is missing.');
    return;
  }
  const record = context.credentials.refreshTokens.get(parsed.data.refresh_token);
  const delegation = record === undefined ? undefined : context.credentials.delegations.get(record.delegationId);
  if (record === undefined || delegation === undefined || delegation.clientId !== context.settings.clientId) {
    tokenError(response, 'invalid_grant', 'The refresh token is unknown.');
    return;
  }
  if (record.isSpent) {
    tokenError(response, 'invalid_grant', 'The refresh token was already used; each refresh returns a new one.');
    return;
  }
  if (record.expiresAtMs <= context.clock.nowMs()) {
    tokenError(response, 'invalid_grant', 'The refresh token expired.');
    return;
  }
  if (delegation.isRevoked) {
    tokenError(response, 'invalid_grant', 'The authorization was revoked.');
    return;
  }
  record.isSpent = true;
  await sendTokens(context, response, delegation, undefined);
}

async function sendTokens(context: SimulatorContext, response: ServerResponse, delegation: Delegation, nonce: string | undefined): Promise<void> {
  const nowMs = context.clock.nowMs();
  const { access, refresh: refreshRecord } = context.credentials.issueTokens(
    delegation,
    nowMs,
    context.settings.accessTokenLifetimeSeconds,
    context.settings.refreshTokenLifetimeSeconds,
  );
  const idToken = await signIdToken(context, delegation, nonce, nowMs);
  sendJson(response, 200, {
    access_token: access.token,
    token_type: 'bearer',
    expires_in: context.settings.accessTokenLifetimeSeconds,
    refresh_token: refreshRecord.token,
    scope: delegation.scopes.join(' '),
    id_token: idToken,
  });
}

async function signIdToken(context: SimulatorContext, delegation: Delegation, nonce: string | undefined, nowMs: number): Promise<string> {
  const account = context.account;
  const issuedAt = Math.floor(nowMs / 1000);
  return new SignJWT({
    ...(nonce === undefined ? {} : { nonce }),
    azp: context.settings.clientId,
    purpose: 'id',
    subdomain: account.subdomain,
    account_id: account.id,
    user_id: delegation.userId,
    region: account.region === 'eu' ? 'EuropeanUnion' : 'UnitedStates',
    delegation_id: delegation.id,
  })
    .setProtectedHeader({ alg: 'RS256', kid: context.signing.kid, typ: 'JWT' })
    .setIssuer(`${context.urls.identityUrl}${ISSUER_PATH}`)
    .setAudience([accountApiUrl(context), context.settings.clientId])
    .setSubject(delegation.userId)
    .setIssuedAt(issuedAt)
    .setNotBefore(issuedAt)
    .setExpirationTime(issuedAt + ID_TOKEN_LIFETIME_SECONDS)
    .setJti(randomBytes(12).toString('hex'))
    .sign(context.signing.privateKey);
}

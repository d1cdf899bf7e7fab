import { createHash, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeConsent } from './consent-driver.ts';
import { startSimulator, type RunningSimulator } from './index.ts';

const REDIRECT_URI = 'http://127.0.0.1:9/oauth/callback';

let simulator: RunningSimulator;

beforeAll(async () => {
  simulator = await startSimulator({ people: 30, seed: 7 });
});

afterAll(async () => {
  await simulator.close();
});

function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(48).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

function authorizeUrl(params: Record<string, string>): string {
  const url = new URL('/oauth/authorize', simulator.identityUrl);
  url.search = new URLSearchParams({ client_id: simulator.clientId, redirect_uri: REDIRECT_URI, response_type: 'code', scope: 'read', ...params }).toString();
  return url.toString();
}

async function postToken(fields: Record<string, string>, contentType = 'application/x-www-form-urlencoded'): Promise<{ status: number; body: Record<string, unknown> }> {
  const body = contentType === 'application/json' ? JSON.stringify(fields) : new URLSearchParams(fields).toString();
  const response = await fetch(`${simulator.identityUrl}/oauth/token`, { method: 'POST', headers: { 'content-type': contentType }, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

async function authorize(params: Record<string, string> = {}): Promise<URL> {
  const result = await completeConsent(authorizeUrl(params), simulator.login);
  return result.callbackUrl;
}

function exchangeCode(code: string, extra: Record<string, string> = {}) {
  return postToken({ grant_type: 'authorization_code', client_id: simulator.clientId, client_secret: simulator.clientSecret, code, redirect_uri: REDIRECT_URI, ...extra });
}

describe('simulated OAuth flow', () => {
  it('authorize, exchange, refresh and rotate', async () => {
    const { verifier, challenge } = pkcePair();
    const result = await completeConsent(authorizeUrl({ state: 'state-1', nonce: 'nonce-1', code_challenge: challenge, code_challenge_method: 'S256' }), simulator.login);

    expect(result.loginHtml).toContain('<title>Sign in · Simulated PagerDuty</title>');
    expect(result.loginHtml).toContain(simulator.login.email);
    expect(result.loginHtml).toContain(simulator.login.password);
    expect(result.consentHtml).toContain('Simulated PagerDuty');
    expect(result.consentHtml).toContain('>Authorize</button>');
    expect(result.consentHtml).toContain('>Deny</button>');
    expect(result.consentHtml).toContain('Seatwise');
    expect(result.consentHtml).toContain('acme-demo');
    expect(result.consentHtml).toContain('US service region');
    expect(result.consentHtml).toContain('Read-only access to everything you can see');

    const callback = result.callbackUrl;
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
    expect(callback.searchParams.get('state')).toBe('state-1');
    const code = callback.searchParams.get('code');
    expect(code).toBeTruthy();

    const exchanged = await exchangeCode(code ?? '', { code_verifier: verifier });
    expect(exchanged.status).toBe(200);
    expect(exchanged.body.token_type).toBe('bearer');
    expect(exchanged.body.scope).toBe('openid read');
    expect(exchanged.body.expires_in).toBe(30 * 86_400);
    expect(String(exchanged.body.access_token)).toMatch(/^pdus\+_0/);
    expect(String(exchanged.body.refresh_token)).toMatch(/^pdus\+_1/);

    const jwks = createRemoteJWKSet(new URL(`${simulator.identityUrl}/global/oauth/anonymous/jwks`));
    const { payload, protectedHeader } = await jwtVerify(String(exchanged.body.id_token), jwks, {
      issuer: `${simulator.identityUrl}/global/oauth/anonymous`,
      audience: simulator.clientId,
    });
    expect(protectedHeader.alg).toBe('RS256');
    expect(protectedHeader.kid).toBeTruthy();
    expect(payload.aud).toEqual([simulator.apiUrl, simulator.clientId]);
    expect(payload.nonce).toBe('nonce-1');
    expect(payload.subdomain).toBe('acme-demo');
    expect(payload.account_id).toBe(simulator.account.id);
    expect(payload.region).toBe('UnitedStates');
    expect(payload.user_id).toBe(payload.sub);
    expect(typeof payload.delegation_id).toBe('string');

    const me = await fetch(`${simulator.apiUrl}/users/me`, { headers: { authorization: `Bearer ${String(exchanged.body.access_token)}` } });
    expect(me.status).toBe(200);
    const meBody = (await me.json()) as { user: { id: string; email: string } };
    expect(meBody.user.email).toBe(simulator.login.email);
    expect(meBody.user.id).toBe(payload.user_id);

    const refreshed = await postToken({ grant_type: 'refresh_token', client_id: simulator.clientId, client_secret: simulator.clientSecret, refresh_token: String(exchanged.body.refresh_token) });
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.refresh_token).not.toBe(exchanged.body.refresh_token);
    expect(refreshed.body.access_token).not.toBe(exchanged.body.access_token);

    const reused = await postToken({ grant_type: 'refresh_token', client_id: simulator.clientId, client_secret: simulator.clientSecret, refresh_token: String(exchanged.body.refresh_token) });
    expect(reused.status).toBe(400);
    expect(reused.body.error).toBe('invalid_grant');
  });

  it('rejects a mismatched PKCE verifier', async () => {
    const { challenge } = pkcePair();
    const callback = await authorize({ code_challenge: challenge, code_challenge_method: 'S256' });
    const exchanged = await exchangeCode(callback.searchParams.get('code') ?? '', { code_verifier: pkcePair().verifier });
    expect(exchanged.status).toBe(400);
    expect(exchanged.body.error).toBe('invalid_grant');
  });

  it('rejects a missing PKCE verifier', async () => {
    const { challenge } = pkcePair();
    const callback = await authorize({ code_challenge: challenge, code_challenge_method: 'S256' });
    const exchanged = await exchangeCode(callback.searchParams.get('code') ?? '');
    expect(exchanged.status).toBe(400);
    expect(exchanged.body.error).toBe('invalid_grant');
  });

  it('rejects a reused authorization code', async () => {
    const code = (await authorize()).searchParams.get('code') ?? '';
    expect((await exchangeCode(code)).status).toBe(200);
    const second = await exchangeCode(code);
    expect(second.status).toBe(400);
    expect(second.body.error).toBe('invalid_grant');
  });

  it('expires codes after 30 seconds', async () => {
    const code = (await authorize()).searchParams.get('code') ?? '';
    simulator.control.advanceClock(31_000);
    const exchanged = await exchangeCode(code);
    expect(exchanged.status).toBe(400);
    expect(exchanged.body.error).toBe('invalid_grant');
    expect(String(exchanged.body.error_description)).toContain('30 seconds');
  });

  it('rejects a different redirect URI', async () => {
    const code = (await authorize()).searchParams.get('code') ?? '';
    const exchanged = await postToken({ grant_type: 'authorization_code', client_id: simulator.clientId, client_secret: simulator.clientSecret, code, redirect_uri: 'http://127.0.0.1:9/other' });
    expect(exchanged.status).toBe(400);
    expect(exchanged.body.error).toBe('invalid_grant');
  });

  it('rejects a wrong client secret', async () => {
    const code = (await authorize()).searchParams.get('code') ?? '';
    const exchanged = await postToken({ grant_type: 'authorization_code', client_id: simulator.clientId, client_secret: 'wrong', code, redirect_uri: REDIRECT_URI });
    expect(exchanged.status).toBe(400);
    expect(exchanged.body.error).toBe('invalid_client');
  });

  it('rejects JSON token requests', async () => {
    const code = (await authorize()).searchParams.get('code') ?? '';
    const exchanged = await postToken({ grant_type: 'authorization_code', client_id: simulator.clientId, client_secret: simulator.clientSecret, code, redirect_uri: REDIRECT_URI }, 'application/json');
    expect(exchanged.status).toBe(400);
    expect(exchanged.body.error).toBe('invalid_request');
  });

  it('redirects with access_denied on deny', async () => {
    const result = await completeConsent(authorizeUrl({ state: 'deny-state' }), { ...simulator.login, decision: 'deny' });
    expect(result.callbackUrl.searchParams.get('error')).toBe('access_denied');
    expect(result.callbackUrl.searchParams.get('error_description')).toBeTruthy();
    expect(result.callbackUrl.searchParams.get('state')).toBe('deny-state');
    expect(result.callbackUrl.searchParams.has('code')).toBe(false);
  });

  it('grants openid only for invalid scopes', async () => {
    const code = (await authorize({ scope: 'everything' })).searchParams.get('code') ?? '';
    const exchanged = await exchangeCode(code);
    expect(exchanged.body.scope).toBe('openid');
    const users = await fetch(`${simulator.apiUrl}/users`, { headers: { authorization: `Bearer ${String(exchanged.body.access_token)}` } });
    expect(users.status).toBe(403);
  });

  it('shows an error page for unknown clients', async () => {
    const response = await fetch(authorizeUrl({ client_id: 'somebody-else' }), { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await response.text()).toContain('Simulated PagerDuty');
  });

  it('shows an error page for foreign redirects', async () => {
    const response = await fetch(authorizeUrl({ redirect_uri: 'https://attacker.invalid/callback' }), { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
  });

  it('rejects a wrong password', async () => {
    await expect(completeConsent(authorizeUrl({}), { email: simulator.login.email, password: 'wrong' })).rejects.toThrow(/Sign-in failed with HTTP 401/);
  });

  it('fails the next token exchange on request', async () => {
    const code = (await authorize()).searchParams.get('code') ?? '';
    simulator.control.failNextTokenExchange();
    const failed = await exchangeCode(code);
    expect(failed.status).toBe(500);
    expect(failed.body.error).toBe('server_error');
  });
});

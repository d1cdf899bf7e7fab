import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { completeConsent } from './consent-driver.ts';
import { startSimulator, type RunningSimulator } from './index.ts';
import { JWKS_PATH } from './oauth.ts';

const REDIRECT_URI = 'http://127.0.0.1:9/oauth/callback';
const OPTIONS = { people: 12, seed: 21, historyDays: 20 };

interface Tokens {
  accessToken: string;
  refreshToken: string;
  idToken: string;
}

async function postToken(simulator: RunningSimulator, fields: Record<string, string>): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${simulator.identityUrl}/oauth/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: simulator.clientId, client_secret: simulator.clientSecret, ...fields }).toString(),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Runs the consent flow and exchanges the code for tokens. */
async function connect(simulator: RunningSimulator): Promise<Tokens> {
  const verifier = randomBytes(48).toString('base64url');
  const challenge = createHash('sha256').update(verifier).digest('base64url');
  const url = new URL('/oauth/authorize', simulator.identityUrl);
  url.search = new URLSearchParams({ client_id: simulator.clientId, redirect_uri: REDIRECT_URI, response_type: 'code', scope: 'read', code_challenge: challenge, code_challenge_method: 'S256' }).toString();
  const { callbackUrl } = await completeConsent(url.toString(), simulator.login);
  const code = callbackUrl.searchParams.get('code') ?? '';
  const { status, body } = await postToken(simulator, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: verifier });
  expect(status).toBe(200);
  return { accessToken: String(body.access_token), refreshToken: String(body.refresh_token), idToken: String(body.id_token) };
}

async function getUsers(simulator: RunningSimulator, authorization: string): Promise<number> {
  const response = await fetch(`${simulator.apiUrl}/users?limit=1`, { headers: { authorization, accept: 'application/vnd.pagerduty+json;version=2' } });
  await response.body?.cancel();
  return response.status;
}

describe('simulator state file', () => {
  let directory: string;
  let stateFile: string;
  let before: RunningSimulator;
  let after: RunningSimulator | undefined;
  let kept: Tokens;
  let revoked: Tokens;
  let userKey: string;

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'simulator-state-'));
    stateFile = join(directory, 'nested', 'simulator-state.json');
    before = await startSimulator({ ...OPTIONS, stateFile });
    kept = await connect(before);
    revoked = await connect(before);
    const delegationId = String(decodeJwt(revoked.idToken).delegation_id);
    expect(before.control.revokeDelegation(delegationId)).toBe(true);
    userKey = before.control.createApiKey(String(decodeJwt(kept.idToken).sub));
    await before.close();
    after = await startSimulator({ ...OPTIONS, stateFile });
  }, 60_000);

  afterAll(async () => {
    await after?.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('writes the file for its owner only', async () => {
    const info = await stat(stateFile);
    expect(info.mode & 0o777).toBe(0o600);
  });

  it('accepts an access token after restart', async () => {
    expect(await getUsers(after!, `Bearer ${kept.accessToken}`)).toBe(200);
  });

  it('refreshes a stored refresh token', async () => {
    const { status, body } = await postToken(after!, { grant_type: 'refresh_token', refresh_token: kept.refreshToken });
    expect(status).toBe(200);
    expect(await getUsers(after!, `Bearer ${String(body.access_token)}`)).toBe(200);
  });

  it('keeps a revoked delegation revoked', async () => {
    expect(await getUsers(after!, `Bearer ${revoked.accessToken}`)).toBe(401);
    const { status, body } = await postToken(after!, { grant_type: 'refresh_token', refresh_token: revoked.refreshToken });
    expect(status).toBe(400);
    expect(body.error).toBe('invalid_grant');
  });

  it('keeps API keys across restart', async () => {
    expect(after!.apiKey).toBe(before.apiKey);
    expect(await getUsers(after!, `Token token=${before.apiKey}`)).toBe(200);
    expect(await getUsers(after!, `Token token=${userKey}`)).toBe(200);
  });

  it('verifies old ID tokens after restart', async () => {
    const keys = createRemoteJWKSet(new URL(`${after!.identityUrl}${JWKS_PATH}`));
    const { payload } = await jwtVerify(kept.idToken, keys, { algorithms: ['RS256'] });
    expect(payload.sub).toBe(decodeJwt(kept.idToken).sub);
  });

  it('keeps the generated history stable', () => {
    const instant = new Date();
    expect(after!.groundTruth(instant)).toEqual(before.groundTruth(instant));
    expect(after!.actions(new Date(0), instant)).toEqual(before.actions(new Date(0), instant));
  });

  it('starts fresh for another account', async () => {
    const other = await startSimulator({ ...OPTIONS, seed: OPTIONS.seed + 1, stateFile: join(directory, 'nested', 'simulator-state.json') });
    try {
      expect(other.apiKey).not.toBe(before.apiKey);
      expect(await getUsers(other, `Bearer ${kept.accessToken}`)).toBe(401);
    } finally {
      await other.close();
    }
  });

  it('rejects an invalid state file', async () => {
    const broken = join(directory, 'broken.json');
    const stored = JSON.parse(await readFile(stateFile, 'utf8')) as Record<string, unknown>;
    await writeFile(broken, JSON.stringify({ ...stored, referenceNow: 'yesterday' }));
    await expect(startSimulator({ ...OPTIONS, stateFile: broken })).rejects.toThrow(/invalid at referenceNow/);
  });
});

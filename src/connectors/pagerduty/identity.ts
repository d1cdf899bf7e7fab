import { z } from 'zod';
import { err, ok, type Result } from '../../lib/result.ts';
import { PAGERDUTY_ACCEPT_HEADER } from './provider.ts';

/** The PagerDuty user an OAuth token acts for. */
export interface PagerDutyUser {
  id: string;
  name: string;
  email: string;
  /** PagerDuty's base role: owner, admin, user, limited_user, observer, restricted_access, read_only_user, ... */
  role: string;
}

const currentUserSchema = z.object({
  user: z.object({ id: z.string().min(1), name: z.string(), email: z.string(), role: z.string().min(1) }),
});

const IDENTITY_REQUEST_TIMEOUT_MS = 15_000;

/** Reads `GET /users/me`, which works with user and OAuth tokens but not with account API keys. */
export async function fetchCurrentUser(
  apiBaseUrl: string,
  accessToken: string,
): Promise<Result<PagerDutyUser, { kind: 'unauthorized' | 'temporary' | 'invalid_response'; message: string }>> {
  let response: Response;
  try {
    response = await fetch(`${apiBaseUrl}/users/me`, {
      headers: { Accept: PAGERDUTY_ACCEPT_HEADER, Authorization: `Bearer ${accessToken}` },
      signal: AbortSignal.timeout(IDENTITY_REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    return err({ kind: 'temporary', message: `GET ${apiBaseUrl}/users/me failed: ${(error as Error).message}` });
  }

  if (response.status === 401 || response.status === 403) {
    return err({ kind: 'unauthorized', message: `GET ${apiBaseUrl}/users/me was rejected with HTTP ${response.status}` });
  }
  if (!response.ok) {
    return err({ kind: 'temporary', message: `GET ${apiBaseUrl}/users/me failed with HTTP ${response.status}` });
  }

  const parsed = currentUserSchema.safeParse(await response.json().catch(() => null));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return err({ kind: 'invalid_response', message: `GET ${apiBaseUrl}/users/me returned an invalid ${issue?.path.join('.') || 'body'}` });
  }
  const { user } = parsed.data;
  return ok({ id: user.id, name: user.name, email: user.email, role: user.role });
}

const userPageSchema = z.object({
  users: z.array(z.object({ html_url: z.string().nullable().optional() })),
});

/** The account an API key belongs to, as far as the REST API reveals it. */
export interface ApiKeyAccount {
  apiBaseUrl: string;
  /** From the users' `html_url` (https://SUBDOMAIN.pagerduty.com/...); null when none is given. */
  subdomain: string | null;
}

/**
 * Finds which of `apiBaseUrls` accepts an account API key, by reading one user page. An
 * account's key works only on its own region's host, so the first host that accepts it serves
 * the account. Account keys cannot read `/users/me`.
 */
export async function probeApiKey(
  apiBaseUrls: readonly string[],
  apiKey: string,
): Promise<Result<ApiKeyAccount, { kind: 'unauthorized' | 'temporary' | 'invalid_response'; message: string }>> {
  let lastFailure: { kind: 'unauthorized' | 'temporary' | 'invalid_response'; message: string } = {
    kind: 'unauthorized',
    message: 'No PagerDuty API host is configured',
  };
  for (const apiBaseUrl of apiBaseUrls) {
    let response: Response;
    try {
      response = await fetch(`${apiBaseUrl}/users?limit=1`, {
        headers: { Accept: PAGERDUTY_ACCEPT_HEADER, Authorization: `Token token=${apiKey}` },
        signal: AbortSignal.timeout(IDENTITY_REQUEST_TIMEOUT_MS),
      });
    } catch (error) {
      lastFailure = { kind: 'temporary', message: `GET ${apiBaseUrl}/users failed: ${(error as Error).message}` };
      continue;
    }
    if (response.status === 401 || response.status === 403) {
      lastFailure = { kind: 'unauthorized', message: `GET ${apiBaseUrl}/users rejected the API key with HTTP ${response.status}` };
      continue;
    }
    if (!response.ok) return err({ kind: 'temporary', message: `GET ${apiBaseUrl}/users failed with HTTP ${response.status}` });

    const parsed = userPageSchema.safeParse(await response.json().catch(() => null));
    if (!parsed.success) return err({ kind: 'invalid_response', message: `GET ${apiBaseUrl}/users returned an invalid body` });
    const htmlUrl = parsed.data.users[0]?.html_url ?? null;
    const subdomain = htmlUrl === null ? null : (/^https:\/\/([a-z0-9-]+)\.(?:eu\.)?pagerduty\.com\//i.exec(htmlUrl)?.[1] ?? null);
    return ok({ apiBaseUrl, subdomain });
  }
  return err(lastFailure);
}

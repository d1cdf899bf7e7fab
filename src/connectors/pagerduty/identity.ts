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

/** Reads `GET /users/me`, which answers for user and OAuth tokens but not for account API keys. */
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
    return err({ kind: 'unauthorized', message: `GET ${apiBaseUrl}/users/me was refused with HTTP ${response.status}` });
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

import type { PagerDutyClient } from '../connectors/pagerduty/client.ts';
import type { ApiError } from '../connectors/pagerduty/errors.ts';
import { abilitiesResponseSchema, currentUserResponseSchema } from '../connectors/pagerduty/schemas.ts';
import type { ConnectionMethod, DB } from '../db/schema.ts';
import { err, ok, type Result } from '../lib/result.ts';
import type { Kysely } from 'kysely';
import type { Capabilities, StreamDefinition, StreamName } from './streams/types.ts';

const ADMIN_ROLES = new Set(['owner', 'admin']);

export interface ProbeInput {
  db: Kysely<DB>;
  client: PagerDutyClient;
  connectionId: string;
  method: ConnectionMethod;
  grantedScope: string | null;
  region: string | null;
  now: Date;
}

/**
 * Probes what a connection may read: the plan's abilities, and for user tokens the connecting
 * person and their role. Stores the result in `pd_capabilities`. Only a 401 (after a refresh)
 * or a fault fails the probe; a 402 or 403 on either request only narrows what is known.
 */
export async function probeCapabilities(input: ProbeInput): Promise<Result<Capabilities, ApiError>> {
  const abilities = await input.client.get('/abilities', {}, abilitiesResponseSchema);
  if (!abilities.ok && !isNarrowing(abilities.error)) return err(abilities.error);

  // `/users/me` needs a user token: account API keys cannot call it.
  let user: { id: string; role: string } | null = null;
  if (input.method !== 'api_key') {
    const me = await input.client.get('/users/me', {}, currentUserResponseSchema);
    if (!me.ok && !isNarrowing(me.error)) return err(me.error);
    if (me.ok) user = { id: me.value.user.id, role: me.value.user.role };
  }

  const capabilities: Capabilities = {
    method: input.method,
    abilities: new Set(abilities.ok ? abilities.value.abilities : []),
    scopes: new Set((input.grantedScope ?? '').split(/\s+/).filter(Boolean)),
    userRole: user?.role ?? null,
  };
  const abilitiesKnown = abilities.ok;

  await input.db
    .insertInto('pd_capabilities')
    .values({
      connection_id: input.connectionId,
      user_id: user?.id ?? null,
      user_role: user?.role ?? null,
      granted_scope: input.grantedScope,
      region: input.region,
      abilities: JSON.stringify([...capabilities.abilities]),
      unavailable_streams: JSON.stringify({}),
      checked_at: input.now,
    })
    .onConflict((conflict) =>
      conflict.column('connection_id').doUpdateSet({
        user_id: user?.id ?? null,
        user_role: user?.role ?? null,
        granted_scope: input.grantedScope,
        region: input.region,
        abilities: JSON.stringify([...capabilities.abilities]),
        checked_at: input.now,
      }),
    )
    .execute();

  return ok(abilitiesKnown ? capabilities : { ...capabilities, abilities: UNKNOWN_ABILITIES });
}

/** Stands for "the abilities could not be read": every ability counts as present, and 402s decide. */
const UNKNOWN_ABILITIES: ReadonlySet<string> = new (class extends Set<string> {
  override has(): boolean {
    return true;
  }
})();

/**
 * Returns why a stream cannot be read with these capabilities, or null when it may be. A stream
 * without a reason here can still turn out unavailable through a 402 or 403.
 */
export function unavailabilityReason(stream: StreamDefinition, capabilities: Capabilities): string | null {
  if (stream.requiredAbility !== undefined && !capabilities.abilities.has(stream.requiredAbility)) {
    return `Not on the PagerDuty plan: the account lacks the "${stream.requiredAbility}" ability.`;
  }
  if (capabilities.method === 'oauth_scoped' && !capabilities.scopes.has(stream.requiredScope)) {
    return `Not granted: the connection's OAuth scope lacks "${stream.requiredScope}"; reconnect with that scope to read it.`;
  }
  if (stream.isAdminOnly && capabilities.method !== 'api_key' && capabilities.userRole !== null && !ADMIN_ROLES.has(capabilities.userRole)) {
    return `Not permitted: only a PagerDuty admin or the account owner may read it, and the connecting person is "${capabilities.userRole}"; reconnect as an admin to read it.`;
  }
  return null;
}

/** Records the streams found unavailable, so the dashboard can show which signals are missing. */
export async function recordUnavailableStreams(db: Kysely<DB>, connectionId: string, reasons: Partial<Record<StreamName, string>>): Promise<void> {
  await db.updateTable('pd_capabilities').set({ unavailable_streams: JSON.stringify(reasons) }).where('connection_id', '=', connectionId).execute();
}

function isNarrowing(error: ApiError): boolean {
  return error.kind === 'plan_gated' || error.kind === 'forbidden' || error.kind === 'not_found';
}

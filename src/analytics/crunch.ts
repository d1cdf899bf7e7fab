import { sql, type Kysely } from 'kysely';
import { z } from 'zod';
import type { DB } from '../db/schema.ts';
import { raiseWorkMemory, recomputeActivityDaily, recomputePersonFeatures, writeFeatureCatalogue } from './activity.ts';
import { recomputeAccountFeatures, recomputeSignalAvailability } from './confidence.ts';
import { recomputePeople } from './people.ts';
import { recomputeRecommendations } from './recommendations.ts';
import { recomputeSeatSummaries } from './seats.ts';
import type { CrunchScope } from './scope.ts';
import { recomputeWeeklyActivity } from './weekly-activity.ts';

export { LAST_SEEN_LOOKBACK_DAYS } from './people.ts';
export { daysBefore } from './scope.ts';

/** The signal that sets a person's last seen; docs/architecture.md defines it by log entries alone. */
export type LastSeenSignal = 'incident_action';

export interface CrunchOptions {
  /**
   * The earliest instant whose raw records the last sync changed. Daily activity facts are then
   * recomputed from that UTC day on; without it, over the whole synced history.
   */
  changedSince?: Date;
  /** Called after each step with its name and duration in milliseconds, for benchmarks and logs. */
  onStepFinished?: (step: string, milliseconds: number) => void;
}

const connectionIdSchema = z.uuid();

/**
 * Recomputes the analytics of one connection from its raw PagerDuty tables in one transaction, so
 * readers get either the previous figures or the new ones. It writes activity facts per person,
 * feature and day, per-person feature use, people (last seen, last activity, coverage), weekly
 * active people per feature and team, seat summaries, signal availability, account features and
 * recommendations.
 *
 * Definitions (docs/architecture.md): last seen is the newest log entry whose agent is the person
 * (`agent_type = 'user_reference'`) created within 90 days before `asOf`. Paid seats are
 * `current_value + allocations_available`, null without a limit. A person is active in N days when
 * their last seen is at or after `asOf − N days`.
 */
export async function crunchConnection(db: Kysely<DB>, connectionId: string, asOf: Date = new Date(), options: CrunchOptions = {}): Promise<void> {
  if (!connectionIdSchema.safeParse(connectionId).success) {
    throw new Error(`Cannot crunch connection ${JSON.stringify(connectionId)}: connectionId must be a UUID.`);
  }
  if (Number.isNaN(asOf.getTime())) {
    throw new Error(`Cannot crunch connection ${connectionId}: asOf is an invalid date.`);
  }

  await db.transaction().execute(async (trx) => {
    const connection = await trx.selectFrom('connections').select(['organization_id']).where('id', '=', connectionId).executeTakeFirst();
    if (connection === undefined) {
      throw new Error(`Cannot crunch connection ${connectionId}: no such connection. Sync an existing connection.`);
    }
    const scope: CrunchScope = { connectionId, organizationId: connection.organization_id, asOf };
    // One crunch at a time per connection: the activity facts have no unique index, and a second
    // crunch that read the same missing days would insert them twice.
    await sql`select pg_advisory_xact_lock(hashtext(${`seatwise.crunch:${connectionId}`}))`.execute(trx);

    const timeStep = async <T>(step: string, action: () => Promise<T>): Promise<T> => {
      const startedMs = performance.now();
      const result = await action();
      options.onStepFinished?.(step, performance.now() - startedMs);
      return result;
    };

    await raiseWorkMemory(trx);
    await timeStep('featureCatalogue', () => writeFeatureCatalogue(trx));
    // Weekly figures recount from the first day the daily facts changed, which may precede changedSince.
    const recomputedSince = await timeStep('activityDaily', () => recomputeActivityDaily(trx, scope, options.changedSince));
    await timeStep('personFeatures', () => recomputePersonFeatures(trx, scope));
    await timeStep('people', () => recomputePeople(trx, scope));
    await timeStep('weeklyActivity', () => recomputeWeeklyActivity(trx, scope, recomputedSince));
    await timeStep('seatSummaries', () => recomputeSeatSummaries(trx, scope));
    await timeStep('signalAvailability', () => recomputeSignalAvailability(trx, scope));
    await timeStep('accountFeatures', () => recomputeAccountFeatures(trx, scope));
    await timeStep('recommendations', () => recomputeRecommendations(trx, scope));
  });
}

import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';
import { liveConnectionIds } from '../connections/repository.ts';

export interface SignalConfidence {
  signal: string;
  status: 'available' | 'unavailable';
  /** The reason the signal is unavailable or an available one may be stale, or null. */
  reason: string | null;
}

export interface ConfidenceView {
  /**
   * `complete` when every signal was read and none is stale, `partial` when some signal is
   * unavailable or stale, `unknown` before the first crunch.
   */
  level: 'complete' | 'partial' | 'unknown';
  availableCount: number;
  signals: SignalConfidence[];
}

/** Builds the confidence of an organization's figures: which signals the last crunch could read, and why not. */
export async function presentConfidence(db: Kysely<DB>, organizationId: string): Promise<ConfidenceView> {
  const rows = await db
    .selectFrom('signal_availability')
    .select(['signal', 'status', 'reason'])
    .where('organization_id', '=', organizationId)
    .where('connection_id', 'in', liveConnectionIds(db, organizationId))
    .orderBy('status', 'desc')
    .orderBy('signal')
    .execute();

  const signals = rows.map((row): SignalConfidence => ({ signal: row.signal, status: row.status, reason: row.reason }));
  const availableCount = signals.filter((signal) => signal.status === 'available').length;
  let level: ConfidenceView['level'] = 'complete';
  if (signals.length === 0) level = 'unknown';
  // An available signal carries a reason only when the last sync is stale.
  else if (signals.some((signal) => signal.status === 'unavailable' || signal.reason !== null)) level = 'partial';
  return { level, availableCount, signals };
}

import type { Kysely } from 'kysely';
import type { PagerDutyClient } from '../../connectors/pagerduty/client.ts';
import type { ApiError } from '../../connectors/pagerduty/errors.ts';
import type { ConnectionMethod, DB } from '../../db/schema.ts';
import type { Logger } from '../../lib/logger.ts';
import type { Result } from '../../lib/result.ts';
import type { CheckpointStore } from '../checkpoints.ts';
import type { StreamProgress } from '../progress.ts';

export type StreamName =
  | 'users'
  | 'licenses'
  | 'license_allocations'
  | 'abilities'
  | 'teams'
  | 'escalation_policies'
  | 'schedules'
  | 'oncalls'
  | 'services'
  | 'incidents'
  | 'log_entries'
  | 'notifications'
  | 'analytics_users'
  | 'oauth_delegations'
  | 'audit_records'
  | 'feature_inventory'
  | 'notification_subscriptions'
  | 'incident_subscriptions';

/** The connection's read access, from the capability probe. */
export interface Capabilities {
  method: ConnectionMethod;
  abilities: ReadonlySet<string>;
  /** The granted OAuth scope, split on spaces; empty for API keys. */
  scopes: ReadonlySet<string>;
  /** The connecting person's base role; null for account API keys. */
  userRole: string | null;
}

export interface StreamContext {
  db: Kysely<DB>;
  client: PagerDutyClient;
  connectionId: string;
  checkpoints: CheckpointStore;
  progress: StreamProgress;
  logger: Logger;
  /** The run's notion of now: the end of every window and the `synced_at` of every row it writes. */
  now: Date;
  /** The earliest instant of history a first pass reads. */
  historyStart: Date;
  /** A full run refreshes every roster stream; an incremental run only those due. */
  kind: 'full' | 'incremental';
  capabilities: Capabilities;
  /** Pages of one list fetched at once. */
  pageConcurrency: number;
}

export interface StreamSummary {
  /** Shown beside the stream in the run history, such as why nothing was read. */
  message: string | null;
}

export interface StreamDefinition {
  name: StreamName;
  /** A plan ability without which PagerDuty returns 402, so the stream is skipped as unavailable. */
  requiredAbility?: string;
  /** The Scoped OAuth scope the stream reads with. */
  requiredScope: string;
  /** Whether the stream reads only what an admin or the account owner may read. */
  isAdminOnly?: boolean;
  /** Streams that must complete first in the same run. */
  dependsOn?: StreamName[];
  run(context: StreamContext): Promise<Result<StreamSummary, ApiError>>;
}

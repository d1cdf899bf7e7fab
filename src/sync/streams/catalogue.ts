import { auditRecordsStream, incidentsStream, logEntriesStream, notificationsStream } from './activity.ts';
import { featureInventoryStream } from './inventory.ts';
import {
  abilitiesStream,
  escalationPoliciesStream,
  licenseAllocationsStream,
  licensesStream,
  oncallsStream,
  schedulesStream,
  servicesStream,
  teamsStream,
  usersStream,
} from './roster.ts';
import { analyticsUsersStream, oauthDelegationsStream } from './sessions.ts';
import { incidentSubscriptionsStream, notificationSubscriptionsStream } from './subscriptions.ts';
import type { StreamDefinition, StreamName } from './types.ts';

/** Every stream a sync reads, in the order runs start them when they may run at once. */
export const STREAMS: readonly StreamDefinition[] = [
  abilitiesStream,
  licensesStream,
  usersStream,
  licenseAllocationsStream,
  incidentsStream,
  logEntriesStream,
  teamsStream,
  escalationPoliciesStream,
  schedulesStream,
  oncallsStream,
  servicesStream,
  notificationsStream,
  analyticsUsersStream,
  oauthDelegationsStream,
  auditRecordsStream,
  featureInventoryStream,
  notificationSubscriptionsStream,
  incidentSubscriptionsStream,
];

/** The streams of the first version of the sync, which the dashboard's seat figures need. */
export const CORE_STREAMS: readonly StreamName[] = ['users', 'licenses', 'license_allocations', 'abilities', 'log_entries'];

export const STREAM_NAMES: readonly StreamName[] = STREAMS.map((stream) => stream.name);

export function isStreamName(value: string): value is StreamName {
  return (STREAM_NAMES as readonly string[]).includes(value);
}

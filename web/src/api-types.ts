import { z } from 'zod';

/**
 * The JSON the dashboard reads from the server's `/api` routes. Every response passes one of
 * these schemas before a page uses it, so a change on either side shows up as a named field
 * instead of a blank screen.
 */

const instant = z.string().min(1);

export const connectionStateSchema = z.enum(['not_connected', 'connected', 'syncing', 'needs_reconnect', 'error']);
export type ConnectionState = z.infer<typeof connectionStateSchema>;

export const apiErrorSchema = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
});
export type ApiErrorBody = z.infer<typeof apiErrorSchema>;

export const setupStatusSchema = z.object({ isSetupRequired: z.boolean() });
export type SetupStatus = z.infer<typeof setupStatusSchema>;

export const sessionUserSchema = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string(),
  role: z.string(),
});

export const sessionSchema = z.object({
  user: sessionUserSchema,
  organization: z.object({ id: z.string(), name: z.string() }),
  csrfToken: z.string().min(1),
  supportEmail: z.string(),
  isDemo: z.boolean(),
  simulatorUrl: z.string().nullable().optional(),
});
export type SessionView = z.infer<typeof sessionSchema>;

export const appsSchema = z.object({
  apps: z.array(
    z.object({
      key: z.string(),
      name: z.string(),
      description: z.string(),
      connectionState: connectionStateSchema,
    }),
  ),
});
export type AppsView = z.infer<typeof appsSchema>;
export type AppSummary = AppsView['apps'][number];

export const streamProgressSchema = z.object({
  stream: z.string(),
  status: z.string(),
  pages: z.number(),
  records: z.number(),
  expectedRecords: z.number().nullable(),
  message: z.string().nullable(),
});
export type StreamProgress = z.infer<typeof streamProgressSchema>;

export const connectionCardSchema = z.object({
  state: connectionStateSchema,
  canConnect: z.boolean(),
  account: z
    .object({
      subdomain: z.string(),
      region: z.enum(['us', 'eu']),
      connectedBy: z.object({ name: z.string(), email: z.string(), role: z.string() }),
      grantedScope: z.string(),
      connectedAt: instant,
    })
    .nullable(),
  lastSyncAt: instant.nullable(),
  statusReason: z.string().nullable(),
  statusChangedAt: instant.nullable(),
  currentRun: z
    .object({
      id: z.string(),
      status: z.string(),
      startedAt: instant.nullable(),
      streams: z.array(streamProgressSchema),
    })
    .nullable(),
  recentRuns: z.array(
    z.object({
      id: z.string(),
      kind: z.string(),
      trigger: z.string(),
      status: z.string(),
      startedAt: instant.nullable(),
      finishedAt: instant.nullable(),
      errorMessage: z.string().nullable(),
    }),
  ),
  notice: z.object({ kind: z.enum(['success', 'error']), message: z.string() }).nullable(),
  supportEmail: z.string(),
});
export type ConnectionCardView = z.infer<typeof connectionCardSchema>;
export type SyncRunSummary = ConnectionCardView['recentRuns'][number];

export const syncStartedSchema = z.object({ syncRunId: z.string() });

/** Seat counts of one license type, as built by src/dashboard/overview.ts. */
export const overviewSeatSchema = z.object({
  licenseId: z.string(),
  licenseName: z.string(),
  roleGroup: z.string(),
  /** Seats bought; null when PagerDuty reports no limit for the license. */
  paid: z.number().nullable(),
  allocated: z.number(),
  active30d: z.number(),
  active90d: z.number(),
  neverActive: z.number(),
});
export type OverviewSeat = z.infer<typeof overviewSeatSchema>;

export const overviewSchema = z.object({
  connection: z.object({ subdomain: z.string().nullable(), region: z.string().nullable(), lastSyncAt: instant.nullable() }).nullable(),
  /** When the figures were computed; null before the first crunch. */
  computedAt: instant.nullable(),
  seats: z.array(overviewSeatSchema),
  /** Sums over `seats`; `paid` is null when any license has no limit. */
  totals: z.object({ paid: z.number().nullable(), allocated: z.number(), active30d: z.number(), active90d: z.number() }),
});
export type OverviewView = z.infer<typeof overviewSchema>;

export const personRowSchema = z.object({
  /** The person's id in PagerDuty. */
  externalId: z.string(),
  name: z.string(),
  email: z.string(),
  role: z.string(),
  licenseName: z.string().nullable(),
  roleGroup: z.string().nullable(),
  lastSeenAt: instant.nullable(),
  /** The kind of signal that set `lastSeenAt`, e.g. `incident_action`. */
  lastSeenSignal: z.string().nullable(),
  /** What exactly happened, e.g. "acknowledge via mobile". */
  lastSeenDetail: z.string().nullable(),
  isDeleted: z.boolean(),
  isInvitedNeverSignedUp: z.boolean(),
});
export type PersonRow = z.infer<typeof personRowSchema>;

export const peopleSortKeys = ['name', 'email', 'role', 'license', 'lastSeen'] as const;
export type PeopleSortKey = (typeof peopleSortKeys)[number];

export const peopleSchema = z.object({
  rows: z.array(personRowSchema),
  /** People matching the search and license filter, over all pages. */
  total: z.number(),
  page: z.number(),
  pageSize: z.number(),
});
export type PeopleView = z.infer<typeof peopleSchema>;

export interface PeopleQuery {
  search: string;
  license: string;
  sort: PeopleSortKey;
  direction: 'asc' | 'desc';
  page: number;
  pageSize: number;
}

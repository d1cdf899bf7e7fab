import { z } from 'zod';

/** Response schemas shared by several routes; each mirrors a view model field by field. */

const isoInstant = z.string().describe('An ISO 8601 instant in UTC');

export const connectionCardSchema = z.object({
  state: z.enum(['not_connected', 'connected', 'syncing', 'needs_reconnect', 'error']),
  canConnect: z.boolean(),
  account: z
    .object({
      subdomain: z.string(),
      region: z.enum(['us', 'eu']),
      connectedBy: z.object({ name: z.string(), email: z.string(), role: z.string() }),
      grantedScope: z.string(),
      connectedAt: isoInstant,
    })
    .nullable(),
  lastSyncAt: isoInstant.nullable(),
  statusReason: z.string().nullable(),
  statusChangedAt: isoInstant.nullable(),
  currentRun: z
    .object({
      id: z.string(),
      status: z.string(),
      startedAt: isoInstant.nullable(),
      streams: z.array(
        z.object({
          stream: z.string(),
          status: z.string(),
          pages: z.number(),
          records: z.number(),
          expectedRecords: z.number().nullable(),
          message: z.string().nullable(),
        }),
      ),
    })
    .nullable(),
  recentRuns: z.array(
    z.object({
      id: z.string(),
      kind: z.string(),
      trigger: z.string(),
      status: z.string(),
      startedAt: isoInstant.nullable(),
      finishedAt: isoInstant.nullable(),
      errorMessage: z.string().nullable(),
    }),
  ),
  notice: z.object({ kind: z.enum(['success', 'error']), message: z.string() }).nullable(),
  supportEmail: z.string(),
});

/** Mirrors OverviewView of src/dashboard/overview.ts; fields it does not list are not sent. */
export const overviewSchema = z.object({
  connection: z.object({ subdomain: z.string().nullable(), region: z.string().nullable(), lastSyncAt: isoInstant.nullable() }).nullable(),
  computedAt: isoInstant.nullable(),
  seats: z.array(
    z.object({
      licenseId: z.string(),
      licenseName: z.string(),
      roleGroup: z.string(),
      paid: z.number().nullable(),
      allocated: z.number(),
      active30d: z.number(),
      active90d: z.number(),
      neverActive: z.number(),
    }),
  ),
  totals: z.object({ paid: z.number().nullable(), allocated: z.number(), active30d: z.number(), active90d: z.number() }),
});

/** Mirrors PeopleView of src/dashboard/people.ts. */
export const peopleSchema = z.object({
  rows: z.array(
    z.object({
      externalId: z.string(),
      name: z.string(),
      email: z.string(),
      role: z.string(),
      licenseName: z.string().nullable(),
      roleGroup: z.string().nullable(),
      lastSeenAt: isoInstant.nullable(),
      lastSeenSignal: z.string().nullable(),
      lastSeenDetail: z.string().nullable(),
      isDeleted: z.boolean(),
      isInvitedNeverSignedUp: z.boolean(),
    }),
  ),
  total: z.number(),
  page: z.number(),
  pageSize: z.number(),
});

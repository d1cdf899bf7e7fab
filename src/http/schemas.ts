import { z } from 'zod';
import type { ConnectionCardView } from '../dashboard/connection-card.ts';
import type { OverviewView } from '../dashboard/overview.ts';
import type { PeopleView } from '../dashboard/people.ts';

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
  accountSwitch: z.object({ currentSubdomain: z.string() }).nullable(),
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
      active60d: z.number(),
      active90d: z.number(),
      neverActive: z.number(),
    }),
  ),
  totals: z.object({ paid: z.number().nullable(), allocated: z.number(), active30d: z.number(), active90d: z.number() }),
  costs: z
    .object({
      currency: z.string(),
      yearlyTotalMinor: z.number(),
      perActiveUser30dMinor: z.number().nullable(),
      perActiveUser90dMinor: z.number().nullable(),
    })
    .nullable(),
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
      lastActivityAt: isoInstant.nullable(),
      lastActivitySignal: z.string().nullable(),
      lastActivityDetail: z.string().nullable(),
      teams: z.array(z.string()),
      recommendation: z
        .object({
          kind: z.enum(['reclaim_seat', 'downgrade_to_stakeholder', 'remove_invitation']),
          status: z.enum(['ready', 'flagged', 'blocked']),
        })
        .nullable(),
    }),
  ),
  total: z.number(),
  page: z.number(),
  pageSize: z.number(),
});

/**
 * Fastify's serializer drops every field a response schema does not list, so a presenter field
 * missing here never reaches the browser. These checks fail to compile when a view gains a field
 * its schema lacks.
 */
type MissingFields<View, Schema> = Exclude<keyof View, keyof Schema>;
type AssertNone<Missing extends never> = Missing;
export type SchemaCoverageChecks = [
  AssertNone<MissingFields<OverviewView, z.infer<typeof overviewSchema>>>,
  AssertNone<MissingFields<OverviewView['seats'][number], z.infer<typeof overviewSchema>['seats'][number]>>,
  AssertNone<MissingFields<PeopleView, z.infer<typeof peopleSchema>>>,
  AssertNone<MissingFields<PeopleView['rows'][number], z.infer<typeof peopleSchema>['rows'][number]>>,
  AssertNone<MissingFields<ConnectionCardView, z.infer<typeof connectionCardSchema>>>,
];

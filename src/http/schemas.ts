import { z } from 'zod';
import type { ConnectionCardView } from '../dashboard/connection-card.ts';
import type { OverviewView } from '../dashboard/overview.ts';
import type { PeopleView } from '../dashboard/people.ts';
import type { FeaturesView } from '../dashboard/features.ts';
import type { PersonView } from '../dashboard/person.ts';
import type { RecommendationsView } from '../dashboard/recommendations.ts';
import type { GuardrailCode } from '../analytics/recommendations.ts';

/** Response schemas shared by several routes; each mirrors a view model field by field. */

const isoInstant = z.string().describe('An ISO 8601 instant in UTC');
const isoDate = z.string().describe('A calendar date, YYYY-MM-DD');
const recommendationKind = z.enum(['reclaim_seat', 'downgrade_to_stakeholder', 'remove_invitation']);
const connectionState = z.enum(['not_connected', 'connected', 'syncing', 'needs_reconnect', 'error']);
const signalStatus = z.enum(['available', 'unavailable']);
const recommendationStatus = z.enum(['ready', 'flagged', 'blocked']);
const guardrailCode = z.enum([
  'strands_escalation_level',
  'strands_schedule',
  'upcoming_on_call',
  'permanent_on_call',
  'on_escalation_policy',
  'open_incidents',
  'account_owner',
  'last_admin',
  'exempt',
  'no_stakeholder_seat',
  'seat_by_role',
]);
// Fails to compile when the analytics layer adds a guardrail code this schema does not list.
type GuardrailCodesCovered = AssertNone<Exclude<GuardrailCode, z.infer<typeof guardrailCode>>>;

/** Mirrors RecommendationRow of src/dashboard/recommendations.ts. */
const recommendationRowSchema = z.object({
  kind: recommendationKind,
  externalId: z.string(),
  name: z.string(),
  email: z.string(),
  licenseName: z.string().nullable(),
  status: recommendationStatus,
  yearlySavingMinor: z.number().nullable().describe('Yearly saving in minor currency units; null without a contract price'),
  effectiveDate: isoDate,
  evidence: z.record(z.string(), z.unknown()).describe('The facts behind the recommendation, such as last activity and license'),
  guardrails: z.array(
    z.object({
      code: guardrailCode,
      severity: z.enum(['block', 'flag']).describe('block stops the recommendation; flag lets it stand with a warning'),
      message: z.string(),
    }),
  ),
});

export const connectionCardSchema = z.object({
  state: connectionState,
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
  keptAccount: z.object({ subdomain: z.string().nullable(), disconnectedAt: isoInstant }).nullable(),
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
      streams: z.array(
        z.object({
          stream: z.string(),
          status: z.string(),
          records: z.number(),
          startedAt: isoInstant.nullable(),
          finishedAt: isoInstant.nullable(),
          message: z.string().nullable().describe('Why the stream was unavailable or failed, or a note on what it read'),
        }),
      ),
    }),
  ),
  nextSync: z
    .object({
      isQueued: z.boolean().describe('A sync is queued and starts when a sync worker is free'),
      scheduled: z.object({ at: isoInstant, kind: z.enum(['full', 'incremental']) }).describe('The next run of the hourly incremental and daily full schedules'),
    })
    .nullable(),
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
  /** Set when seats are role groups derived from people's roles because licenses could not be read. */
  seatsByRole: z.object({ note: z.string(), licenseStatus: z.number().nullable() }).nullable(),
  totals: z.object({ paid: z.number().nullable(), allocated: z.number(), active30d: z.number(), active90d: z.number() }),
  costs: z
    .object({
      currency: z.string(),
      yearlyTotalMinor: z.number(),
      perActiveUser30dMinor: z.number().nullable(),
      perActiveUser90dMinor: z.number().nullable(),
    })
    .nullable(),
  savings: z
    .object({
      currency: z.string().nullable().describe('ISO 4217 code of the contract; null when no contract prices are entered'),
      yearlyTotalMinor: z.number().nullable(),
      byKind: z.array(
        z.object({
          kind: recommendationKind,
          openCount: z.number().describe('Ready or flagged recommendations; blocked ones are not open'),
          yearlySavingMinor: z.number().nullable(),
          unpricedCount: z.number(),
          blockedCount: z.number(),
        }),
      ),
    })
    .describe('Potential yearly savings of open recommendations, in minor currency units'),
  weeklyActivity: z
    .object({
      weekStarts: z.array(isoDate),
      firstDay: isoDate.nullable(),
      lastDay: isoDate.nullable(),
      series: z.array(z.object({ featureKey: z.string(), featureName: z.string(), category: z.string(), activePeople: z.array(z.number()) })),
    })
    .describe('Weekly active people per feature over the synced history; weeks are ISO weeks of UTC days'),
  freshness: z.object({
    connectionStatus: connectionState,
    statusReason: z.string().nullable(),
    statusChangedAt: isoInstant.nullable(),
    isVisibilityLimited: z.boolean(),
    lastSyncAt: isoInstant.nullable(),
    lastSuccessfulSyncAt: isoInstant.nullable(),
    lastRun: z.object({ status: z.enum(['succeeded', 'partial', 'failed']), finishedAt: isoInstant.nullable(), errorMessage: z.string().nullable() }).nullable(),
  }),
  confidence: z.object({
    level: z.enum(['complete', 'partial', 'unknown']),
    availableCount: z.number(),
    signals: z.array(z.object({ signal: z.string(), status: signalStatus, reason: z.string().nullable() })),
  }),
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
      seatBasis: z.enum(['license', 'role']).describe("'role' when licenses could not be read, so roleGroup comes from the PagerDuty role and licenseName is null"),
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
  teamOptions: z.array(z.string()).describe('Every team named in the organization, for the team filter'),
  page: z.number(),
  pageSize: z.number(),
});

/** Mirrors PersonView of src/dashboard/person.ts. */
export const personSchema = z.object({
  externalId: z.string(),
  name: z.string(),
  email: z.string(),
  role: z.string(),
  licenseName: z.string().nullable(),
  roleGroup: z.string().nullable(),
  seatBasis: z.enum(['license', 'role']).describe("'role' when licenses could not be read, so roleGroup comes from the PagerDuty role and licenseName is null"),
  teams: z.array(z.string()),
  isDeleted: z.boolean(),
  isInvitedNeverSignedUp: z.boolean(),
  lastSeenAt: isoInstant.nullable(),
  lastSeenSignal: z.string().nullable(),
  lastSeenDetail: z.string().nullable(),
  lastActivityAt: isoInstant.nullable(),
  lastActivitySignal: z.string().nullable(),
  lastActivityDetail: z.string().nullable(),
  coverage: z.object({
    escalationPolicyIds: z.array(z.string()),
    scheduleIds: z.array(z.string()),
    upcomingShiftCount: z.number(),
    isPermanentOnCall: z.boolean(),
    openIncidentCount: z.number(),
  }),
  features: z.array(
    z.object({
      key: z.string(),
      name: z.string(),
      firstUsedAt: isoInstant,
      lastUsedAt: isoInstant,
      count30d: z.number(),
      count60d: z.number(),
      count90d: z.number(),
    }),
  ),
  unavailableSignals: z.array(z.object({ signal: z.string(), reason: z.string().nullable() })).describe('Signals that could not be read, so their absence proves nothing'),
  recommendation: recommendationRowSchema.nullable(),
});

/** Mirrors RecommendationsView of src/dashboard/recommendations.ts. */
export const recommendationsSchema = z.object({
  computedAt: isoInstant.nullable(),
  licensesUnreadable: z.boolean().describe('PagerDuty did not allow reading licenses, so each recommendation changes the seat the role needs and is flagged'),
  currency: z.string().nullable(),
  totals: z
    .object({ yearlySavingMinor: z.number(), ready: z.number(), flagged: z.number(), blocked: z.number() })
    .describe('Savings of the recommendations that no guardrail blocks'),
  rows: z.array(recommendationRowSchema),
});

/** Mirrors FeaturesView of src/dashboard/features.ts. */
export const featuresSchema = z.object({
  computedAt: isoInstant.nullable(),
  features: z.array(
    z.object({
      key: z.string(),
      name: z.string(),
      description: z.string(),
      category: z.string(),
      scope: z.enum(['person', 'account']),
      requirement: z.string().nullable(),
      people30d: z.number(),
      people90d: z.number(),
      events30d: z.number(),
      events90d: z.number(),
    }),
  ),
  weekly: z.array(z.object({ weekStart: isoDate, featureKey: z.string(), activePeople: z.number() })).describe('Weekly active people per feature; weeks start on Monday, UTC'),
  weeklyByTeam: z.array(z.object({ weekStart: isoDate, team: z.string(), activePeople: z.number() })),
  teamFeatureUse: z
    .object({
      teams: z.array(z.object({ team: z.string(), memberCount: z.number() })),
      features: z.array(z.object({ key: z.string(), name: z.string() })),
      cells: z.array(z.object({ team: z.string(), featureKey: z.string(), activePeople: z.number(), share: z.number().describe('activePeople divided by the team size, 0 to 1') })),
    })
    .describe('Members of each team who used each feature in the last 30 days; missing cells are zero'),
  accountFeatures: z.array(
    z.object({
      key: z.string(),
      name: z.string(),
      status: z.enum(['available', 'unavailable', 'unknown']),
      reason: z.string().nullable(),
      configuredCount: z.number().nullable(),
      exercisedCount90d: z.number().nullable(),
    }),
  ),
  signals: z.array(z.object({ signal: z.string(), status: signalStatus, reason: z.string().nullable() })),
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
  AssertNone<MissingFields<OverviewView['savings'], z.infer<typeof overviewSchema>['savings']>>,
  AssertNone<MissingFields<OverviewView['savings']['byKind'][number], z.infer<typeof overviewSchema>['savings']['byKind'][number]>>,
  AssertNone<MissingFields<OverviewView['weeklyActivity'], z.infer<typeof overviewSchema>['weeklyActivity']>>,
  AssertNone<MissingFields<OverviewView['weeklyActivity']['series'][number], z.infer<typeof overviewSchema>['weeklyActivity']['series'][number]>>,
  AssertNone<MissingFields<OverviewView['freshness'], z.infer<typeof overviewSchema>['freshness']>>,
  AssertNone<MissingFields<OverviewView['confidence'], z.infer<typeof overviewSchema>['confidence']>>,
  AssertNone<MissingFields<FeaturesView, z.infer<typeof featuresSchema>>>,
  AssertNone<MissingFields<FeaturesView['features'][number], z.infer<typeof featuresSchema>['features'][number]>>,
  AssertNone<MissingFields<FeaturesView['teamFeatureUse'], z.infer<typeof featuresSchema>['teamFeatureUse']>>,
  AssertNone<MissingFields<FeaturesView['teamFeatureUse']['cells'][number], z.infer<typeof featuresSchema>['teamFeatureUse']['cells'][number]>>,
  AssertNone<MissingFields<FeaturesView['accountFeatures'][number], z.infer<typeof featuresSchema>['accountFeatures'][number]>>,
  AssertNone<MissingFields<PeopleView, z.infer<typeof peopleSchema>>>,
  AssertNone<MissingFields<PeopleView['rows'][number], z.infer<typeof peopleSchema>['rows'][number]>>,
  AssertNone<MissingFields<ConnectionCardView, z.infer<typeof connectionCardSchema>>>,
  AssertNone<MissingFields<ConnectionCardView['recentRuns'][number], z.infer<typeof connectionCardSchema>['recentRuns'][number]>>,
  AssertNone<MissingFields<ConnectionCardView['recentRuns'][number]['streams'][number], z.infer<typeof connectionCardSchema>['recentRuns'][number]['streams'][number]>>,
  AssertNone<MissingFields<NonNullable<ConnectionCardView['nextSync']>, NonNullable<z.infer<typeof connectionCardSchema>['nextSync']>>>,
  GuardrailCodesCovered,
  AssertNone<MissingFields<PersonView, z.infer<typeof personSchema>>>,
  AssertNone<MissingFields<PersonView['coverage'], z.infer<typeof personSchema>['coverage']>>,
  AssertNone<MissingFields<PersonView['features'][number], z.infer<typeof personSchema>['features'][number]>>,
  AssertNone<MissingFields<PersonView['unavailableSignals'][number], z.infer<typeof personSchema>['unavailableSignals'][number]>>,
  AssertNone<MissingFields<RecommendationsView, z.infer<typeof recommendationsSchema>>>,
  AssertNone<MissingFields<RecommendationsView['totals'], z.infer<typeof recommendationsSchema>['totals']>>,
  AssertNone<MissingFields<RecommendationsView['rows'][number], z.infer<typeof recommendationsSchema>['rows'][number]>>,
  AssertNone<MissingFields<RecommendationsView['rows'][number]['guardrails'][number], z.infer<typeof recommendationsSchema>['rows'][number]['guardrails'][number]>>,
];

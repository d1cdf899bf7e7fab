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
  organizations: z.array(z.object({ id: z.string(), name: z.string(), role: z.string() })),
  csrfToken: z.string().min(1),
  supportEmail: z.string(),
  isDemo: z.boolean(),
  simulatorUrl: z.string().nullable().optional(),
});
export type SessionView = z.infer<typeof sessionSchema>;

export const roles = ['owner', 'admin', 'member', 'viewer'] as const;
export type Role = (typeof roles)[number];

export const memberSchema = z.object({ userId: z.string(), name: z.string(), email: z.string(), role: z.enum(roles), joinedAt: instant });
export type MemberView = z.infer<typeof memberSchema>;
export const membersSchema = z.object({ members: z.array(memberSchema) });
export const memberChangeSchema = z.object({ member: memberSchema });

export const memberInviteSchema = z.object({ id: z.string(), email: z.string(), role: z.enum(roles), inviterName: z.string().nullable(), expiresAt: instant, createdAt: instant });
export type MemberInviteView = z.infer<typeof memberInviteSchema>;
export const memberInvitesSchema = z.object({ invites: z.array(memberInviteSchema) });
export const sentMemberInviteSchema = z.object({ id: z.string(), email: z.string(), role: z.string(), expiresAt: instant });

export const auditSchema = z.object({
  events: z.array(z.object({ id: z.string(), actorLabel: z.string(), action: z.string(), details: z.record(z.string(), z.unknown()), createdAt: instant })),
});
export type AuditEventView = z.infer<typeof auditSchema>['events'][number];

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

/** One stream of a finished sync run. */
export const runStreamOutcomeSchema = z.object({
  stream: z.string(),
  status: z.string(),
  records: z.number(),
  startedAt: instant.nullable(),
  finishedAt: instant.nullable(),
  message: z.string().nullable(),
});
export type RunStreamOutcome = z.infer<typeof runStreamOutcomeSchema>;

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
  keptAccount: z.object({ subdomain: z.string().nullable(), disconnectedAt: instant }).nullable(),
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
      streams: z.array(runStreamOutcomeSchema),
    }),
  ),
  nextSync: z
    .object({
      isQueued: z.boolean(),
      scheduled: z.object({ at: instant, kind: z.enum(['full', 'incremental']) }),
    })
    .nullable(),
  notice: z.object({ kind: z.enum(['success', 'error']), message: z.string() }).nullable(),
  accountSwitch: z.object({ currentSubdomain: z.string() }).nullable(),
  supportEmail: z.string(),
});
export type ConnectionCardView = z.infer<typeof connectionCardSchema>;
export type SyncRunSummary = ConnectionCardView['recentRuns'][number];
export type NextSync = NonNullable<ConnectionCardView['nextSync']>;

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
  /** Set when seats are role groups derived from people's roles because licenses could not be read. */
  seatsByRole: z.object({ note: z.string(), licenseStatus: z.number().nullable() }).nullable(),
  /** Sums over `seats`; `paid` is null when any license has no limit. */
  totals: z.object({ paid: z.number().nullable(), allocated: z.number(), active30d: z.number(), active90d: z.number() }),
  /** Cost from the entered contract, in minor currency units; null without a contract. */
  costs: z
    .object({
      currency: z.string(),
      yearlyTotalMinor: z.number(),
      perActiveUser30dMinor: z.number().nullable(),
      perActiveUser90dMinor: z.number().nullable(),
    })
    .nullable()
    .optional(),
  /** Potential yearly savings of open (ready or flagged) recommendations, per kind. */
  savings: z.object({
    /** ISO 4217 code of the contract; null when no contract prices are entered. */
    currency: z.string().nullable(),
    yearlyTotalMinor: z.number().nullable(),
    byKind: z.array(
      z.object({
        kind: z.enum(['reclaim_seat', 'downgrade_to_stakeholder', 'remove_invitation']),
        openCount: z.number(),
        yearlySavingMinor: z.number().nullable(),
        /** Open recommendations without a saving in the contract's currency. */
        unpricedCount: z.number(),
        blockedCount: z.number(),
      }),
    ),
  }),
  /** Weekly active people per feature over the synced history; weeks are ISO weeks of UTC days. */
  weeklyActivity: z.object({
    weekStarts: z.array(z.string()),
    firstDay: z.string().nullable(),
    lastDay: z.string().nullable(),
    series: z.array(z.object({ featureKey: z.string(), featureName: z.string(), category: z.string(), activePeople: z.array(z.number()) })),
  }),
  freshness: z.object({
    connectionStatus: connectionStateSchema,
    statusReason: z.string().nullable(),
    statusChangedAt: instant.nullable(),
    /** Connected through a PagerDuty user who is not an admin, so some data may be missing. */
    isVisibilityLimited: z.boolean(),
    lastSyncAt: instant.nullable(),
    lastSuccessfulSyncAt: instant.nullable(),
    lastRun: z.object({ status: z.enum(['succeeded', 'partial', 'failed']), finishedAt: instant.nullable(), errorMessage: z.string().nullable() }).nullable(),
  }),
  confidence: z.object({
    level: z.enum(['complete', 'partial', 'unknown']),
    availableCount: z.number(),
    signals: z.array(z.object({ signal: z.string(), status: z.enum(['available', 'unavailable']), reason: z.string().nullable() })),
  }),
});
export type OverviewView = z.infer<typeof overviewSchema>;
export type SavingsView = OverviewView['savings'];
export type WeeklyActivityView = OverviewView['weeklyActivity'];
export type FreshnessView = OverviewView['freshness'];
export type ConfidenceView = OverviewView['confidence'];

/** The source of a person's seat type: their PagerDuty license, or their role when licenses could not be read. */
export const seatBasisSchema = z.enum(['license', 'role']);

export const personRowSchema = z.object({
  /** The person's id in PagerDuty. */
  externalId: z.string(),
  name: z.string(),
  email: z.string(),
  role: z.string(),
  licenseName: z.string().nullable(),
  roleGroup: z.string().nullable(),
  /** 'role' when licenses could not be read, so `roleGroup` comes from the PagerDuty role and `licenseName` is null. */
  seatBasis: seatBasisSchema,
  lastSeenAt: instant.nullable(),
  /** The kind of signal that set `lastSeenAt`, e.g. `incident_action`. */
  lastSeenSignal: z.string().nullable(),
  /** The detail of the signal, e.g. "acknowledge via mobile". */
  lastSeenDetail: z.string().nullable(),
  isDeleted: z.boolean(),
  isInvitedNeverSignedUp: z.boolean(),
  /** Newest activity on any signal (sign-in, mobile app, incident action, on-call shift, configuration change). */
  lastActivityAt: instant.nullable().optional(),
  lastActivitySignal: z.string().nullable().optional(),
  lastActivityDetail: z.string().nullable().optional(),
  teams: z.array(z.string()).optional(),
  recommendation: z.object({ kind: z.string(), status: z.string() }).nullable().optional(),
});
export type PersonRow = z.infer<typeof personRowSchema>;

export const peopleSortKeys = ['name', 'email', 'role', 'license', 'lastSeen'] as const;
export type PeopleSortKey = (typeof peopleSortKeys)[number];

export const peopleSchema = z.object({
  rows: z.array(personRowSchema),
  /** People matching the search and every filter, over all pages. */
  total: z.number(),
  /** Every team named in the organization, for the team filter. */
  teamOptions: z.array(z.string()),
  page: z.number(),
  pageSize: z.number(),
});
export type PeopleView = z.infer<typeof peopleSchema>;

/** Activity windows of the people filter, by last seen relative to the crunch. */
export const activityFilters = ['active30d', 'active60d', 'active90d', 'inactive30d', 'inactive60d', 'inactive90d', 'never'] as const;
export type ActivityFilter = (typeof activityFilters)[number];
/** The seat filter: people who hold a seat as the overview counts seats, or everyone else. */
export const seatFilters = ['allocated', 'unallocated'] as const;
export type SeatFilter = (typeof seatFilters)[number];
/** The recommendation filter: one kind, or `none` for people without a recommendation. */
export const recommendationFilters = ['reclaim_seat', 'downgrade_to_stakeholder', 'remove_invitation', 'none'] as const;
export type RecommendationFilter = (typeof recommendationFilters)[number];

/**
 * The people page's query as the URL carries it; an empty string means no filter. A filter value
 * the page does not know is kept as text, so the API can reject it by name.
 */
export interface PeopleQuery {
  search: string;
  license: string;
  team: string;
  /** Lists only people in no team; the API rejects it together with `team`. */
  noTeam: boolean;
  activity: string;
  seat: string;
  recommendation: string;
  sort: PeopleSortKey;
  direction: 'asc' | 'desc';
  page: number;
  pageSize: number;
}

export const recommendationKinds = ['reclaim_seat', 'downgrade_to_stakeholder', 'remove_invitation'] as const;
export type RecommendationKind = (typeof recommendationKinds)[number];
export const recommendationStatusSchema = z.enum(['ready', 'flagged', 'blocked']);
export type RecommendationStatus = z.infer<typeof recommendationStatusSchema>;

export const guardrailSchema = z.object({
  code: z.string(),
  /** `block` stops the recommendation; `flag` lets it stand with a warning. */
  severity: z.enum(['block', 'flag']),
  message: z.string(),
});
export type GuardrailView = z.infer<typeof guardrailSchema>;

/** One recommendation, as built by src/dashboard/recommendations.ts. */
export const recommendationRowSchema = z.object({
  kind: z.enum(recommendationKinds),
  externalId: z.string(),
  name: z.string(),
  email: z.string(),
  licenseName: z.string().nullable(),
  status: recommendationStatusSchema,
  /** Yearly saving in minor currency units (cents); null without a contract price. */
  yearlySavingMinor: z.number().nullable(),
  /** `YYYY-MM-DD`: the first day the change lowers the bill. */
  effectiveDate: z.string(),
  evidence: z.record(z.string(), z.unknown()),
  guardrails: z.array(guardrailSchema),
});
export type RecommendationRowView = z.infer<typeof recommendationRowSchema>;

export const recommendationsSchema = z.object({
  computedAt: instant.nullable(),
  /** PagerDuty did not allow reading licenses, so no seat can be recommended for reclaim or downgrade. */
  licensesUnreadable: z.boolean(),
  currency: z.string().nullable(),
  /** Savings of recommendations that no guardrail blocks. */
  totals: z.object({ yearlySavingMinor: z.number(), ready: z.number(), flagged: z.number(), blocked: z.number() }),
  rows: z.array(recommendationRowSchema),
});
export type RecommendationsView = z.infer<typeof recommendationsSchema>;

/** One person's page, as built by src/dashboard/person.ts. */
export const personSchema = z.object({
  externalId: z.string(),
  name: z.string(),
  email: z.string(),
  role: z.string(),
  licenseName: z.string().nullable(),
  roleGroup: z.string().nullable(),
  /** 'role' when licenses could not be read, so `roleGroup` comes from the PagerDuty role and `licenseName` is null. */
  seatBasis: seatBasisSchema,
  teams: z.array(z.string()),
  isDeleted: z.boolean(),
  isInvitedNeverSignedUp: z.boolean(),
  lastSeenAt: instant.nullable(),
  lastSeenSignal: z.string().nullable(),
  lastSeenDetail: z.string().nullable(),
  lastActivityAt: instant.nullable(),
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
      firstUsedAt: instant,
      lastUsedAt: instant,
      count30d: z.number(),
      count60d: z.number(),
      count90d: z.number(),
    }),
  ),
  /** Signals that could not be read for the account, so their absence proves nothing. */
  unavailableSignals: z.array(z.object({ signal: z.string(), reason: z.string().nullable() })),
  recommendation: recommendationRowSchema.nullable(),
});
export type PersonView = z.infer<typeof personSchema>;

/** The features page, as built by src/dashboard/features.ts. */
export const featuresSchema = z.object({
  computedAt: instant.nullable(),
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
  /** Weekly active people per feature; `weekStart` is the Monday of the ISO week in UTC. */
  weekly: z.array(z.object({ weekStart: z.string(), featureKey: z.string(), activePeople: z.number() })),
  weeklyByTeam: z.array(z.object({ weekStart: z.string(), team: z.string(), activePeople: z.number() })),
  /** Members of each team who used each feature in the last 30 days; missing cells are zero. */
  teamFeatureUse: z.object({
    teams: z.array(z.object({ team: z.string(), memberCount: z.number() })),
    features: z.array(z.object({ key: z.string(), name: z.string() })),
    cells: z.array(z.object({ team: z.string(), featureKey: z.string(), activePeople: z.number(), share: z.number() })),
  }),
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
  signals: z.array(z.object({ signal: z.string(), status: z.enum(['available', 'unavailable']), reason: z.string().nullable() })),
});
export type FeaturesView = z.infer<typeof featuresSchema>;

export const inviteSchema = z.object({
  id: z.string(),
  email: z.string(),
  note: z.string().nullable(),
  inviterName: z.string().nullable(),
  status: z.enum(['pending', 'used', 'expired']),
  expiresAt: instant,
  usedAt: instant.nullable(),
  /** The outcome of the invited admin using the link, in plain words. */
  outcomeMessage: z.string().nullable(),
  createdAt: instant,
});
export type InviteView = z.infer<typeof inviteSchema>;
export const inviteCreatedSchema = z.object({ invite: inviteSchema });
export const invitesSchema = z.object({ invites: z.array(inviteSchema) });

export const disconnectedSchema = z.object({
  keptData: z.boolean(),
  /** How to remove Seatwise's grant on PagerDuty's side, in plain words. */
  instructions: z.string(),
});

/*
 * Settings. GET /api/settings returns `SettingsView`; each form saves with its own call:
 * PUT /api/settings/contract (`ContractInput`), PUT /api/settings/recommendations
 * (`{ unusedDays }`), POST /api/settings/exemptions (`{ email, reason }`),
 * DELETE /api/settings/exemptions/:email and PUT /api/settings/support-email
 * (`{ supportEmail }`). Each returns the updated `SettingsView`.
 */

export const billingPeriods = ['monthly', 'annual'] as const;
export const unusedDayChoices = [30, 60, 90] as const;

export const contractLineSchema = z.object({
  licenseName: z.string().min(1),
  roleGroup: z.string().nullable(),
  /** Seats bought under the contract; null when the contract does not fix a number. */
  seats: z.number().int().nonnegative().nullable(),
  /** Price of one seat for one billing period, in minor currency units (cents). */
  pricePerSeatMinor: z.number().int().nonnegative(),
});
export type ContractLine = z.infer<typeof contractLineSchema>;

export const contractSchema = z.object({
  plan: z.string().nullable(),
  /** ISO 4217 code, e.g. USD. */
  currency: z.string().regex(/^[A-Z]{3}$/),
  billingPeriod: z.enum(billingPeriods),
  /** `YYYY-MM-DD`, or null when not known. */
  renewalDate: z.string().nullable(),
  noticePeriodDays: z.number().int().nonnegative(),
  lines: z.array(contractLineSchema),
});

/** The body of PUT /api/settings/contract: prices in major units as typed, e.g. "41.50". */
export const contractInputSchema = contractSchema.omit({ lines: true }).extend({
  lines: z.array(
    contractLineSchema.omit({ pricePerSeatMinor: true }).extend({
      pricePerSeat: z.string().regex(/^\d{1,9}(\.\d{1,2})?$/, 'must be an amount with at most two decimals, such as 41.00'),
    }),
  ),
});
export type ContractInput = z.infer<typeof contractInputSchema>;

export const settingsSchema = z.object({
  contract: contractSchema.nullable(),
  /** License types seen in the synced PagerDuty data, so prices can be entered per type. */
  licenses: z.array(z.object({ licenseName: z.string(), roleGroup: z.string().nullable() })),
  unusedDays: z.number().int(),
  exemptions: z.array(z.object({ email: z.string(), reason: z.string().nullable(), createdAt: instant })),
  /** The organization's own support address; null uses the server's default. */
  supportEmail: z.string().nullable(),
  members: z.array(z.object({ id: z.string(), name: z.string(), email: z.string(), role: z.string() })),
  /** In the response to a change that affects recommendations, the data instant they were recomputed for. Null before the first sync. */
  recommendationsRecomputedFor: instant.nullable().optional(),
});
export type SettingsView = z.infer<typeof settingsSchema>;

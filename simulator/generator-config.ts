import type { Random } from './random.ts';
import type {
  EscalationTarget,
  PlanName,
  SimAuditRecord,
  SimCustomField,
  SimEscalationPolicy,
  SimIncidentType,
  SimInventory,
  SimLicense,
  SimSchedule,
  SimService,
  SimSession,
  SimSubscriber,
  SimTeam,
  SimUser,
} from './model.ts';

/**
 * Generates what people configure rather than do: sign-ins, schedules, escalation policies, audit
 * records and account-level features. It draws from its own generator so that adding here leaves the
 * people and their log entries of a seed unchanged.
 */
export interface ConfigOptions {
  now: Date;
  historyDays: number;
  plan: PlanName;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Rotations started this long ago, so every generated history day has someone on call. */
const ROTATION_AGE_DAYS = 800;
const SCHEDULE_TIME_ZONES = ['America/New_York', 'Europe/Berlin', 'Etc/UTC', 'Australia/Sydney', 'America/Los_Angeles', 'Asia/Tokyo'] as const;
const WEB_CLIENT_ID = 'PagerDutyLogin';
const MOBILE_CLIENT_ID = 'PagerDutyMobile';

/** Abilities by plan. PagerDuty documents `teams`, `urgencies`, `read_only_users` and `coordinated_responding`; the rest are this simulator's names for plan features. */
export const PLAN_ABILITIES: Record<PlanName, readonly string[]> = {
  free: [],
  professional: ['teams', 'urgencies', 'service_support_hours'],
  business: [
    'teams', 'urgencies', 'service_support_hours', 'read_only_users', 'advanced_permissions', 'coordinated_responding', 'audit_records', 'incident_workflows',
    'priorities', 'custom_fields',
  ],
  enterprise: [
    'teams', 'urgencies', 'service_support_hours', 'read_only_users', 'advanced_permissions', 'coordinated_responding', 'audit_records', 'incident_workflows',
    'priorities', 'custom_fields', 'automation_actions', 'event_orchestration', 'status_pages',
  ],
};

export type IdSource = { object(): string };

/** Adds sign-in times, mobile app use and sessions to each person. */
export function addSignIns(random: Random, ids: IdSource, options: ConfigOptions, users: SimUser[], latestActions: Map<string, number>): void {
  const now = options.now.getTime();
  for (const user of users) {
    user.createdAt = new Date(user.allocatedAt.getTime() - random.integer(0, 3) * DAY_MS);
    user.hasMobileApp = user.contactMethods.some((method) => method.type === 'push_notification_contact_method');
    const latestAction = latestActions.get(user.id);

    if (user.invitationSent) user.lastSignInAt = null;
    else if (latestAction !== undefined) user.lastSignInAt = new Date(Math.max(latestAction - random.integer(0, 48) * HOUR_MS, user.createdAt.getTime()));
    else if (user.behaviour === 'stakeholder' && random.chance(0.6)) user.lastSignInAt = new Date(now - random.integer(1, 60) * DAY_MS);
    else user.lastSignInAt = new Date(Math.max(now - random.integer(120, 500) * DAY_MS, user.createdAt.getTime()));

    user.sessions = [];
    if (user.lastSignInAt !== null && !user.isMobileOnly) user.sessions.push(session(ids, 'web', WEB_CLIENT_ID, user.lastSignInAt, now));
    const mobileSignInAt = user.isMobileOnly ? user.lastSignInAt : new Date((user.lastSignInAt?.getTime() ?? now) - random.integer(1, 30) * DAY_MS);
    if (user.hasMobileApp && user.lastSignInAt !== null && mobileSignInAt !== null) user.sessions.push(session(ids, 'mobile', MOBILE_CLIENT_ID, mobileSignInAt, now));
  }
}

function session(ids: IdSource, type: SimSession['type'], clientId: string, createdAt: Date, now: number): SimSession {
  const expiresAt = new Date(createdAt.getTime() + 30 * DAY_MS);
  return { id: ids.object(), type, clientId, createdAt, expiresAt, isRevoked: expiresAt.getTime() < now };
}

/** Generates one weekly rotation per team with overrides, one escalation policy per team, and one that pages a person directly. */
export function generateOnCall(
  random: Random,
  ids: IdSource,
  options: ConfigOptions,
  users: SimUser[],
  teams: SimTeam[],
  services: SimService[],
): { schedules: SimSchedule[]; escalationPolicies: SimEscalationPolicy[] } {
  const now = options.now.getTime();
  const responders = users.filter((user) => ['daily_responder', 'weekly_responder', 'occasional_responder'].includes(user.behaviour));
  // People on a rotation who never act: on call, but never paged into an action.
  const onCallOnly = users.filter((user) => user.behaviour === 'never_acts' && !user.invitationSent);
  const managers = users.filter((user) => user.role === 'admin' || user.role === 'owner' || user.role === 'user');

  const schedules: SimSchedule[] = [];
  const escalationPolicies: SimEscalationPolicy[] = [];
  teams.forEach((team, teamIndex) => {
    const members = new Set<string>();
    const rotationSize = Math.min(responders.length, random.integer(3, 6));
    for (let index = 0; index < rotationSize; index += 1) members.add(random.pick(responders).id);
    if (onCallOnly.length > 0) members.add(random.pick(onCallOnly).id);
    const userIds = [...members];
    if (userIds.length === 0) return;

    const overrides = [];
    for (let index = 0, count = random.integer(1, 4); index < count; index += 1) {
      const start = now - random.integer(-30, options.historyDays) * DAY_MS + random.integer(0, 23) * HOUR_MS;
      overrides.push({ id: ids.object(), start: new Date(start), end: new Date(start + random.integer(12, 48) * HOUR_MS), userId: random.pick(responders.length > 0 ? responders : users).id });
    }

    const schedule: SimSchedule = {
      id: ids.object(),
      name: `${team.name} Primary`,
      description: `Weekly rotation of the ${team.name} team`,
      timeZone: SCHEDULE_TIME_ZONES[teamIndex % SCHEDULE_TIME_ZONES.length] ?? 'Etc/UTC',
      teamId: team.id,
      layer: { id: ids.object(), name: 'Layer 1', start: new Date(now - ROTATION_AGE_DAYS * DAY_MS), handoffWeekday: 1, handoffHour: 9, userIds },
      overrides,
    };
    schedules.push(schedule);

    const secondLevel: EscalationTarget = { type: 'user_reference', id: random.pick(managers.length > 0 ? managers : users).id };
    escalationPolicies.push({
      id: ids.object(),
      name: `${team.name} Escalation`,
      description: `Pages the ${team.name} on-call person, then a manager`,
      teamId: team.id,
      numLoops: random.integer(0, 2),
      rules: [
        { id: ids.object(), delayMinutes: 30, targets: [{ type: 'schedule_reference', id: schedule.id }] },
        { id: ids.object(), delayMinutes: 30, targets: [secondLevel] },
      ],
    });
  });

  // A policy that pages one person directly: PagerDuty reports that person as permanently on call.
  const owner = users[0];
  const firstTeam = teams[0];
  if (owner !== undefined && firstTeam !== undefined) {
    escalationPolicies.push({
      id: ids.object(),
      name: 'Executive Escalation',
      description: 'Pages the account owner directly',
      teamId: firstTeam.id,
      numLoops: 0,
      rules: [{ id: ids.object(), delayMinutes: 15, targets: [{ type: 'user_reference', id: owner.id }] }],
    });
  }

  for (const service of services) {
    const policy = escalationPolicies.find((candidate) => candidate.teamId === service.teamId) ?? escalationPolicies[0];
    if (policy !== undefined) service.escalationPolicyId = policy.id;
  }
  return { schedules, escalationPolicies };
}

/** Fixed ids of what the guardrail cases add, because drawing ids would change the account id. */
const GUARDRAIL_OVERRIDE_ID = 'PGRDOV1';
const GUARDRAIL_SCHEDULE_ID = 'PGRDSC1';
const GUARDRAIL_LAYER_ID = 'PGRDLY1';
const GUARDRAIL_POLICY_ID = 'PGRDEP1';
const GUARDRAIL_RULE_ID = 'PGRDRL1';
const GUARDRAIL_SESSION_ID = 'PGRDSN1';
const GUARDRAIL_OVERRIDE_DELAY_DAYS = 10;
/** Later than the 90 days of on-call shifts a sync reads ahead, so the backup rotation has no upcoming shift. */
const BACKUP_ROTATION_DELAY_DAYS = 120;
/** How long ago the watcher last signed in: inside every unused window a crunch may use. */
const WATCHER_SIGN_IN_DAYS_AGO = 3;

/** The parts of a generated account that the guardrail cases rearrange. */
export interface GuardrailCaseInput {
  users: SimUser[];
  licenses: SimLicense[];
  schedules: SimSchedule[];
  escalationPolicies: SimEscalationPolicy[];
  auditRecords: SimAuditRecord[];
  now: Date;
}

/**
 * Turns inactive people on no rotation into the cases recommendation guardrails are for, without
 * drawing random numbers. One who never acts becomes the only target of a second escalation level,
 * on call but never paged. Two who never act or stopped long ago become the account owner and the
 * last admin, who also has a future override. The former owner and every other admin become plain
 * users. Then `addFlaggedCases` adds the cases that only flag a recommendation. Returns the new owner.
 */
export function addGuardrailCases(input: GuardrailCaseInput): SimUser {
  const { users, schedules, escalationPolicies, now } = input;
  const onRotation = new Set(schedules.flatMap((schedule) => schedule.layer.userIds));
  const targeted = new Set(escalationPolicies.flatMap((policy) => policy.rules.flatMap((rule) => rule.targets.filter((target) => target.type === 'user_reference').map((target) => target.id))));
  const isFree = (user: SimUser, index: number) => index > 0 && !user.invitationSent && !onRotation.has(user.id) && !targeted.has(user.id);
  const candidates = users.filter((user, index) => isFree(user, index) && user.behaviour === 'never_acts');
  const inactive = users.filter((user, index) => isFree(user, index) && (user.behaviour === 'never_acts' || user.behaviour === 'dormant_responder'));
  const secondary = candidates[0];
  const [owner, admin] = inactive.filter((user) => user !== secondary);
  const teamPolicies = escalationPolicies.filter((policy) => policy.rules.length >= 2);
  const secondLevel = teamPolicies.at(-1)?.rules[1];
  const sharedLevel = teamPolicies[0]?.rules[1];
  const firstSchedule = schedules[0];
  if (secondary === undefined || owner === undefined || admin === undefined || secondLevel === undefined || sharedLevel === undefined || sharedLevel === secondLevel || firstSchedule === undefined) {
    throw new Error(`Guardrail cases need three people who are inactive and on no rotation, one of whom never acts, and a policy with two levels; found ${inactive.length} inactive people. Generate more people.`);
  }

  secondLevel.targets = [{ type: 'user_reference', id: secondary.id }];
  // Being on call is all the secondary does: no sign-in and no session either.
  secondary.lastSignInAt = null;
  secondary.sessions = [];
  for (const user of users) {
    if (user.role === 'owner' || user.role === 'admin') user.role = 'user';
  }
  owner.role = 'owner';
  admin.role = 'admin';

  // The admin also shares a second level with a manager and takes one future override, so
  // removing them strands nothing now but leaves upcoming on-call time uncovered.
  sharedLevel.targets.push({ type: 'user_reference', id: admin.id });
  const overrideStart = new Date(now.getTime() + GUARDRAIL_OVERRIDE_DELAY_DAYS * DAY_MS);
  firstSchedule.overrides.push({ id: GUARDRAIL_OVERRIDE_ID, start: overrideStart, end: new Date(overrideStart.getTime() + DAY_MS), userId: admin.id });

  const isUntouched = (user: SimUser, index: number) => index > 0 && !onRotation.has(user.id) && !targeted.has(user.id) && user !== secondary && user !== owner && user !== admin;
  addFlaggedCases(input, users.filter(isUntouched), firstSchedule.teamId);
  return owner;
}

/**
 * Adds the cases whose recommendation a guardrail only flags. Two people invited but never signed
 * up share a backup rotation that starts after the on-call horizon, so each is on an escalation
 * policy but strands nothing and has no upcoming shift. One Full User with no incident action in
 * the synced history and no configuration change signs in recently, so the rules recommend a
 * downgrade, and every Stakeholder seat is allocated.
 */
function addFlaggedCases(input: GuardrailCaseInput, untouched: SimUser[], teamId: string): void {
  const { licenses, schedules, escalationPolicies, auditRecords, now } = input;
  const configurers = new Set(auditRecords.map((record) => record.actorUserId));
  const watcher = untouched.find((user) => (user.behaviour === 'never_acts' || user.behaviour === 'dormant_responder') && !user.invitationSent && !configurers.has(user.id));
  const [firstBackup, secondBackup] = untouched.filter((user) => user.behaviour === 'never_acts' && user.invitationSent);
  if (watcher === undefined || firstBackup === undefined || secondBackup === undefined) {
    throw new Error('Flagged guardrail cases need three more people on no rotation: two invited who never act, and one who signed up, acted over 90 days ago or never, and changed no configuration. Generate more people.');
  }

  const rotationStart = new Date(now.getTime() + BACKUP_ROTATION_DELAY_DAYS * DAY_MS);
  schedules.push({
    id: GUARDRAIL_SCHEDULE_ID,
    name: 'Backup Rotation',
    description: 'Weekly backup rotation that starts in four months',
    timeZone: 'Etc/UTC',
    teamId,
    layer: { id: GUARDRAIL_LAYER_ID, name: 'Layer 1', start: rotationStart, handoffWeekday: 1, handoffHour: 9, userIds: [firstBackup.id, secondBackup.id] },
    overrides: [],
  });
  escalationPolicies.push({
    id: GUARDRAIL_POLICY_ID,
    name: 'Backup Escalation',
    description: 'Pages the backup rotation once it starts',
    teamId,
    numLoops: 0,
    rules: [{ id: GUARDRAIL_RULE_ID, delayMinutes: 30, targets: [{ type: 'schedule_reference', id: GUARDRAIL_SCHEDULE_ID }] }],
  });

  // The watcher only signs in to the web app, so the rules see a Full User who watches.
  watcher.lastSignInAt = new Date(now.getTime() - WATCHER_SIGN_IN_DAYS_AGO * DAY_MS);
  watcher.sessions = [session({ object: () => GUARDRAIL_SESSION_ID }, 'web', WEB_CLIENT_ID, watcher.lastSignInAt, now.getTime())];
  for (const license of licenses) {
    if (license.roleGroup === 'Stakeholder') license.allocationsAvailable = 0;
  }
}

const AUDITED_FIELDS: Record<SimAuditRecord['rootType'], { name: string; before: string; value: string }> = {
  users: { name: 'role', before: 'limited_user', value: 'user' },
  teams: { name: 'description', before: 'On-call team', value: 'Owns production on-call' },
  schedules: { name: 'time_zone', before: 'Etc/UTC', value: 'Europe/Berlin' },
  escalation_policies: { name: 'num_loops', before: '0', value: '1' },
  services: { name: 'acknowledgement_timeout', before: '1800', value: '3600' },
};

/** Configuration changes by admins and managers, about two a week, newest first. */
export function generateAuditRecords(random: Random, ids: IdSource, options: ConfigOptions, users: SimUser[], teams: SimTeam[], schedules: SimSchedule[], services: SimService[]): SimAuditRecord[] {
  const actors = users.filter((user) => user.role === 'owner' || user.role === 'admin' || (user.role === 'user' && user.behaviour === 'daily_responder'));
  if (actors.length === 0) return [];
  const now = options.now.getTime();
  const records: SimAuditRecord[] = [];
  const count = Math.round((options.historyDays / 7) * 2);
  for (let index = 0; index < count; index += 1) {
    const rootType = random.pick(['users', 'teams', 'schedules', 'escalation_policies', 'services'] as const);
    let root: { id: string; name: string } = random.pick(services);
    if (rootType === 'users') root = random.pick(users);
    else if (rootType === 'teams') root = random.pick(teams);
    else if (rootType === 'schedules' && schedules.length > 0) root = random.pick(schedules);
    const action = random.weighted([['update', 8], ['create', 1], ['delete', 1]] as const);
    records.push({
      id: ids.object(),
      executionTime: new Date(now - random.integer(1, options.historyDays * 24 - 1) * HOUR_MS - random.integer(0, 3_599_999)),
      actorUserId: random.pick(actors).id,
      methodType: random.weighted([['browser', 7], ['oauth', 2], ['api_token', 1]] as const),
      rootType,
      rootId: root.id,
      rootName: root.name,
      action,
      field: action === 'update' ? AUDITED_FIELDS[rootType] : null,
    });
  }
  return records.sort((a, b) => b.executionTime.getTime() - a.executionTime.getTime());
}

const VENDORS = [
  ['Datadog', 'Monitoring and analytics for cloud applications', 'https://www.datadoghq.com'],
  ['Prometheus', 'Open-source monitoring and alerting', 'https://prometheus.io'],
  ['Amazon CloudWatch', 'Monitoring for AWS resources', 'https://aws.amazon.com/cloudwatch'],
  ['Slack', 'Team chat', 'https://slack.com'],
  ['Jira Software', 'Issue tracking', 'https://www.atlassian.com/software/jira'],
] as const;

function atLeast(plan: PlanName, minimum: PlanName): boolean {
  const order: PlanName[] = ['free', 'professional', 'business', 'enterprise'];
  return order.indexOf(plan) >= order.indexOf(minimum);
}

/**
 * Returns the incident types and custom fields of a plan, with fixed ids so that adding them draws
 * nothing from the generator's random or id sources and leaves every other generated record as it was.
 */
function incidentTypesFor(plan: PlanName, now: number): Pick<SimInventory, 'incidentTypes' | 'customFields'> {
  const createdAt = new Date(now - 200 * DAY_MS);
  const base: SimIncidentType = { id: 'PITBASE', name: 'incident_default', displayName: 'Base Incident', enabled: true, parentId: null, createdAt };
  if (!atLeast(plan, 'business')) return { incidentTypes: [base], customFields: [] };
  const security: SimIncidentType = { id: 'PITSECU', name: 'security', displayName: 'Security', enabled: true, parentId: base.id, createdAt };
  const fraud: SimIncidentType = { id: 'PITFRAU', name: 'fraud', displayName: 'Fraud', enabled: false, parentId: base.id, createdAt };
  const field = (id: string, incidentType: SimIncidentType, name: string, displayName: string, enabled: boolean): SimCustomField => ({
    id,
    incidentTypeId: incidentType.id,
    name,
    displayName,
    enabled,
    createdAt,
  });
  return {
    incidentTypes: [base, security, fraud],
    customFields: [
      field('PCFENVI', base, 'environment', 'Environment', true),
      field('PCFCUST', base, 'customer_impact', 'Customer impact', true),
      field('PCFOLDR', base, 'legacy_region', 'Legacy region', false),
      field('PCFCVES', security, 'cve', 'CVE', true),
      field('PCFAMNT', fraud, 'amount', 'Amount', true),
    ],
  };
}

/** Account-level features the plan allows, some configured but idle (a disabled workflow, an unpublished page). */
export function generateInventory(random: Random, ids: IdSource, options: ConfigOptions, users: SimUser[], teams: SimTeam[], services: SimService[]): SimInventory {
  const now = options.now.getTime();
  const plan = options.plan;
  const team = (): SimTeam => random.pick(teams);
  const daysAgo = (minimum: number, maximum: number): Date => new Date(now - random.integer(minimum, maximum) * DAY_MS);

  const inventory: Omit<SimInventory, 'businessServiceSubscribers' | 'incidentTypes' | 'customFields'> = {
    vendors: VENDORS.map(([name, description, websiteUrl]) => ({ id: ids.object(), name, description, websiteUrl })),
    extensions: atLeast(plan, 'professional')
      ? services.slice(0, 3).map((service, index) => ({
          id: ids.object(),
          name: `${service.name} ${index === 0 ? 'Slack' : 'webhook'}`,
          schemaId: index === 0 ? 'PSLACK1' : 'PWEBHK1',
          schemaName: index === 0 ? 'Slack V2' : 'Generic V2 Webhook',
          serviceId: service.id,
          isDisabled: index === 2,
        }))
      : [],
    addons: atLeast(plan, 'professional') ? [{ id: ids.object(), name: 'Runbook viewer', type: 'incident_show_addon', src: 'https://runbooks.acme-demo.example/addon' }] : [],
    businessServices: atLeast(plan, 'business')
      ? ['Online Checkout', 'Customer Login'].map((name) => ({ id: ids.object(), name, teamId: team().id, pointOfContact: 'ops@acme-demo.example' }))
      : [],
    priorities: atLeast(plan, 'business')
      ? ['P1', 'P2', 'P3', 'P4', 'P5'].map((name, index) => ({ id: ids.object(), name, description: index === 0 ? 'Customer-facing outage' : `Priority ${index + 1}` }))
      : [],
    incidentWorkflows: atLeast(plan, 'business')
      ? [
          { id: ids.object(), name: 'Major incident kickoff', teamId: team().id, isEnabled: true, createdAt: daysAgo(30, 300) },
          { id: ids.object(), name: 'Notify legal', teamId: team().id, isEnabled: false, createdAt: daysAgo(30, 300) },
        ]
      : [],
    statusPages: atLeast(plan, 'business')
      ? [
          { id: ids.object(), name: 'Acme Status', type: 'public', publishedAt: atLeast(plan, 'enterprise') ? daysAgo(100, 400) : null },
          { id: ids.object(), name: 'Internal Status', type: 'private', publishedAt: daysAgo(30, 200) },
        ]
      : [],
    eventOrchestrations: atLeast(plan, 'enterprise')
      ? [{ id: ids.object(), name: 'Default routing', teamId: team().id, routes: random.integer(2, 9), createdAt: daysAgo(60, 500), createdByUserId: random.pick(users).id }]
      : [],
    automationActions: atLeast(plan, 'enterprise')
      ? [{ id: ids.object(), name: 'Restart web tier', description: 'Rolls the web servers', createdAt: daysAgo(60, 400), runnerId: ids.object(), serviceIds: services.slice(0, 2).map((service) => service.id) }]
      : [],
  };
  return { ...inventory, ...incidentTypesFor(plan, now), businessServiceSubscribers: generateSubscribers(inventory.businessServices, users, teams) };
}

/**
 * Subscribes every stakeholder to one business service in turn and every third one to all of them,
 * plus the first team to the first service. It draws no random numbers, so the rest of a seed's
 * account stays as it was before subscriptions existed.
 */
function generateSubscribers(businessServices: SimInventory['businessServices'], users: SimUser[], teams: SimTeam[]): SimSubscriber[] {
  const subscribers: SimSubscriber[] = [];
  if (businessServices.length === 0) return subscribers;

  const stakeholders = users.filter((user) => user.behaviour === 'stakeholder');
  stakeholders.forEach((user, index) => {
    const followed = index % 3 === 0 ? businessServices : [businessServices[index % businessServices.length]];
    for (const service of followed) {
      if (service !== undefined) subscribers.push({ businessServiceId: service.id, subscriberType: 'user', subscriberId: user.id });
    }
  });
  const firstTeam = teams[0];
  const firstService = businessServices[0];
  if (firstTeam !== undefined && firstService !== undefined) subscribers.push({ businessServiceId: firstService.id, subscriberType: 'team', subscriberId: firstTeam.id });
  return subscribers;
}

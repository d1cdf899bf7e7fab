import { addGuardrailCases, addSignIns, generateAuditRecords, generateInventory, generateOnCall, PLAN_ABILITIES } from './generator-config.ts';
import { ArrayHistory, type HistoryStore } from './history.ts';
import { LazyHistory } from './lazy-history.ts';
import { Random } from './random.ts';
import { FIRST_NAMES, INCIDENT_TITLES, JOB_TITLES, LAST_NAMES, NOTES, SERVICE_NAMES, TEAM_NAMES, TIME_ZONES, USER_COLORS } from './names.ts';
import type {
  AgentRef,
  Behaviour,
  PlanName,
  ContactMethodType,
  Region,
  SimAccount,
  SimChannel,
  SimContactMethod,
  SimIncident,
  SimLicense,
  SimLogEntry,
  SimService,
  SimTeam,
  SimUser,
  UserRole,
} from './model.ts';

export interface GeneratorOptions {
  seed: number;
  people: number;
  region: Region;
  now: Date;
  historyDays: number;
  /** Default 'business'. The plan decides the abilities and which account features exist. */
  plan?: PlanName;
  /** The account's IANA time zone, default 'Etc/UTC'. */
  timeZone?: string;
  /**
   * Incidents over the whole history. When set, history is generated lazily one day at a time
   * (lazy-history.ts) instead of per person, which large accounts need.
   */
  incidents?: number;
  /** With `incidents`: one day, `daysAgo` days back, with this many extra incidents. */
  burst?: { daysAgo: number; incidents: number };
  /** Rearranges roles and one escalation level so every recommendation guardrail has a case (`addGuardrailCases`). */
  guardrailCases?: boolean;
}

/**
 * Accounts with more people than this get a lazily generated history even without `incidents`,
 * because the per-person history grows by about 115 log entries a person and takes seconds per
 * thousand people to build.
 */
export const EAGER_HISTORY_MAX_PEOPLE = 3_000;
/** Incidents per person for large accounts that set no `incidents`: about 140 log entries a person. */
const LAZY_INCIDENTS_PER_PERSON = 15;

/** Seed offset of the second generator, which makes configuration without shifting people and history. */
const CONFIG_SEED_OFFSET = 0x9e3779b9;

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;

/**
 * Latest actions are kept this far from `now − 30 days` and `now − 90 days`, so a crunch run a few
 * minutes after generation puts every person on the same side of each window edge as the ground truth.
 */
const WINDOW_EDGE_MARGIN_MS = 6 * HOUR_MS;
const WINDOW_EDGES_DAYS = [30, 90] as const;

/** Service-only incidents (triggered and resolved by monitoring, no person involved) per day. */
const UNATTENDED_INCIDENTS_PER_DAY = { min: 1, max: 4 } as const;

/** Repeating pattern of behaviours for people with a Full User license (the owner excluded). */
const FULL_USER_BEHAVIOURS: readonly Behaviour[] = [
  'daily_responder', 'weekly_responder', 'never_acts', 'occasional_responder', 'lapsed_responder',
  'daily_responder', 'weekly_responder', 'dormant_responder', 'never_acts', 'lapsed_responder',
  'weekly_responder', 'occasional_responder', 'daily_responder', 'never_acts', 'weekly_responder',
  'lapsed_responder', 'occasional_responder', 'daily_responder', 'dormant_responder', 'never_acts',
];

const FULL_USER_ROLES: readonly UserRole[] = ['owner', 'admin', 'user', 'limited_user', 'observer', 'restricted_access'];
const STAKEHOLDER_ROLES: readonly UserRole[] = ['read_only_user', 'read_only_limited_user'];

/** Generates the demo account for a seed: the same options always give the same account. */
export function generateAccount(options: GeneratorOptions): SimAccount {
  const random = new Random(options.seed);
  const ids = new IdAllocator(random);
  const subdomain = 'acme-demo';

  const licenses = generateLicenses(ids);
  const teams = TEAM_NAMES.map((name): SimTeam => ({ id: ids.object(), name, description: `The ${name} team` }));
  const users = generateUsers(random, ids, options, licenses, teams, subdomain);
  const services = generateServices(random, ids, options, teams);
  setSpareSeats(random, licenses, users);

  const deletedUsers = generateDeletedUsers(random, ids, options, subdomain);
  let history: HistoryStore;
  let latestActions: Map<string, number>;
  const lazyIncidents = options.incidents ?? (options.people > EAGER_HISTORY_MAX_PEOPLE ? options.people * LAZY_INCIDENTS_PER_PERSON : undefined);
  if (lazyIncidents === undefined) {
    const generated = generateHistory(random, ids, options, users, deletedUsers, services);
    history = new ArrayHistory(generated.logEntries, generated.incidents);
    latestActions = latestActionByUser(generated.logEntries);
  } else {
    const lazy = new LazyHistory({ seed: options.seed, now: options.now, historyDays: options.historyDays, incidents: lazyIncidents, users, deletedUsers, services, ...(options.burst === undefined ? {} : { burst: options.burst }) });
    history = lazy;
    latestActions = lazy.latestActionBounds();
  }
  const owner = users[0];
  if (owner === undefined) throw new Error('generateAccount needs at least one person');

  const configRandom = new Random((options.seed + CONFIG_SEED_OFFSET) >>> 0);
  const configIds = { object: () => ids.object() };
  const plan = options.plan ?? 'business';
  const configOptions = { now: options.now, historyDays: options.historyDays, plan };
  addSignIns(configRandom, configIds, configOptions, users, latestActions);
  const onCall = generateOnCall(configRandom, configIds, configOptions, users, teams, services);
  const auditRecords = generateAuditRecords(configRandom, configIds, configOptions, users, teams, onCall.schedules, services);
  const inventory = generateInventory(configRandom, configIds, configOptions, users, teams, services);
  // After the audit records, so the new owner and admin have changed no configuration.
  const accountOwner = options.guardrailCases === true
      ? addGuardrailCases({ users, licenses, schedules: onCall.schedules, escalationPolicies: onCall.escalationPolicies, auditRecords, now: options.now })
      : owner;

  return {
    id: ids.object(),
    subdomain,
    name: 'Acme Demo',
    region: options.region,
    timeZone: options.timeZone ?? 'Etc/UTC',
    plan,
    abilities: [...PLAN_ABILITIES[plan]],
    owner: accountOwner,
    licenses,
    users,
    teams,
    services,
    history,
    schedules: onCall.schedules,
    escalationPolicies: onCall.escalationPolicies,
    auditRecords,
    inventory,
    deletedUsers,
    generatedAt: options.now,
  };
}

function latestActionByUser(entries: SimLogEntry[]): Map<string, number> {
  const latest = new Map<string, number>();
  for (const entry of entries) {
    if (entry.agent.type !== 'user_reference') continue;
    latest.set(entry.agent.id, Math.max(latest.get(entry.agent.id) ?? 0, entry.createdAt.getTime()));
  }
  return latest;
}

/** Former responders, removed from the account, whose old actions remain in the log. */
function generateDeletedUsers(random: Random, ids: IdAllocator, options: GeneratorOptions, subdomain: string): SimUser[] {
  const count = Math.max(1, Math.round(options.people * 0.02));
  const deleted: SimUser[] = [];
  for (let index = 0; index < count; index += 1) {
    const first = random.pick(FIRST_NAMES);
    const last = random.pick(LAST_NAMES);
    deleted.push({
      ...emptyPerson(),
      id: ids.object(),
      name: `${first} ${last}`,
      email: `${first}.${last}.former${index + 1}@${subdomain}.example`.toLowerCase(),
      behaviour: 'lapsed_responder',
    });
  }
  return deleted;
}

function emptyPerson(): SimUser {
  return {
    id: '',
    name: '',
    email: '',
    role: 'user',
    timeZone: 'Etc/UTC',
    color: 'green',
    jobTitle: '',
    licenseId: '',
    allocatedAt: new Date(0),
    behaviour: 'never_acts',
    invitationSent: false,
    createdViaSso: false,
    teamIds: [],
    contactMethods: [],
    notificationRules: [],
    createdAt: new Date(0),
    lastSignInAt: null,
    hasMobileApp: false,
    isMobileOnly: false,
    sessions: [],
  };
}

/** Hands out ids that are unique within one account. */
class IdAllocator {
  private readonly used = new Set<string>();

  constructor(private readonly random: Random) {}

  object(): string {
    return this.unique(() => this.random.objectId());
  }

  logEntry(): string {
    return this.unique(() => this.random.logEntryId());
  }

  private unique(make: () => string): string {
    for (;;) {
      const id = make();
      if (!this.used.has(id)) {
        this.used.add(id);
        return id;
      }
    }
  }
}

function generateLicenses(ids: IdAllocator): SimLicense[] {
  return [
    {
      id: ids.object(),
      name: 'Business (Full User)',
      description: 'Event Intelligence',
      roleGroup: 'FullUser',
      validRoles: [...FULL_USER_ROLES],
      allocationsAvailable: 0,
    },
    {
      id: ids.object(),
      name: 'Business (Stakeholder)',
      description: '',
      roleGroup: 'Stakeholder',
      validRoles: [...STAKEHOLDER_ROLES],
      allocationsAvailable: 0,
    },
  ];
}

/** Role counts for `people` people: one owner, then the shares below, the rest plain users. */
function planRoles(people: number): UserRole[] {
  const shares: [UserRole, number][] = [
    ['admin', 0.04],
    ['read_only_user', 0.18],
    ['read_only_limited_user', 0.04],
    ['limited_user', 0.15],
    ['observer', 0.03],
    ['restricted_access', 0.01],
  ];
  const roles: UserRole[] = ['owner'];
  for (const [role, share] of shares) {
    const count = Math.max(role === 'admin' || role === 'read_only_user' ? 1 : 0, Math.round(people * share));
    for (let index = 0; index < count && roles.length < people; index += 1) roles.push(role);
  }
  while (roles.length < people) roles.push('user');
  return roles;
}

function generateUsers(
  random: Random,
  ids: IdAllocator,
  options: GeneratorOptions,
  licenses: SimLicense[],
  teams: SimTeam[],
  subdomain: string,
): SimUser[] {
  const [fullUserLicense, stakeholderLicense] = licenses;
  if (fullUserLicense === undefined || stakeholderLicense === undefined) throw new Error('generateUsers needs both licenses');
  const roles = planRoles(options.people);
  const usedEmails = new Set<string>();
  let fullUserIndex = 0;

  return roles.map((role, index): SimUser => {
    const first = random.pick(FIRST_NAMES);
    const last = random.pick(LAST_NAMES);
    const email = uniqueEmail(`${first}.${last}`.toLowerCase(), `${subdomain}.example`, usedEmails);
    const isStakeholder = STAKEHOLDER_ROLES.includes(role);

    let behaviour: Behaviour;
    if (isStakeholder) behaviour = 'stakeholder';
    else if (index === 0) behaviour = 'weekly_responder';
    else {
      behaviour = FULL_USER_BEHAVIOURS[fullUserIndex % FULL_USER_BEHAVIOURS.length] ?? 'never_acts';
      fullUserIndex += 1;
    }

    const isMobileOnly = (behaviour === 'weekly_responder' || behaviour === 'occasional_responder') && random.chance(0.3);
    const userTeams = isStakeholder ? [random.pick(teams)] : [random.pick(teams), ...(random.chance(0.25) ? [random.pick(teams)] : [])];
    const contactMethods = generateContactMethods(random, ids, email, isStakeholder);
    if (isMobileOnly && !contactMethods.some((method) => method.type === 'push_notification_contact_method')) {
      contactMethods.push({ id: ids.object(), type: 'push_notification_contact_method', label: 'Mobile app', address: 'iPhone' });
    }
    const allocatedAt = new Date(options.now.getTime() - random.integer(options.historyDays + 30, options.historyDays + 900) * DAY_MS);

    return {
      ...emptyPerson(),
      id: ids.object(),
      name: `${first} ${last}`,
      email,
      role,
      timeZone: random.pick(TIME_ZONES),
      color: random.pick(USER_COLORS),
      jobTitle: random.pick(JOB_TITLES),
      licenseId: isStakeholder ? stakeholderLicense.id : fullUserLicense.id,
      allocatedAt,
      behaviour,
      isMobileOnly,
      invitationSent: behaviour === 'never_acts' && random.chance(0.5),
      createdViaSso: random.chance(0.6),
      teamIds: [...new Set(userTeams.map((team) => team.id))],
      contactMethods,
      notificationRules: contactMethods
        .filter((method) => method.type !== 'email_contact_method' || contactMethods.length === 1)
        .map((method, ruleIndex) => ({ id: ids.object(), urgency: 'high' as const, startDelayInMinutes: ruleIndex * 5, contactMethodId: method.id })),
    };
  });
}

function uniqueEmail(localPart: string, domain: string, used: Set<string>): string {
  let candidate = `${localPart}@${domain}`;
  for (let suffix = 2; used.has(candidate); suffix += 1) candidate = `${localPart}${suffix}@${domain}`;
  used.add(candidate);
  return candidate;
}

function generateContactMethods(random: Random, ids: IdAllocator, email: string, isStakeholder: boolean): SimContactMethod[] {
  const methods: SimContactMethod[] = [{ id: ids.object(), type: 'email_contact_method', label: 'Default', address: email }];
  if (isStakeholder) return methods;

  const phone = `555${random.integer(1_000_000, 9_999_999)}`;
  const extra: [ContactMethodType, number, string][] = [
    ['phone_contact_method', 0.8, phone],
    ['sms_contact_method', 0.7, phone],
    ['push_notification_contact_method', 0.5, 'iPhone'],
  ];
  for (const [type, probability, address] of extra) {
    if (random.chance(probability)) methods.push({ id: ids.object(), type, label: type === 'push_notification_contact_method' ? 'Mobile app' : 'Mobile', address });
  }
  return methods;
}

function generateServices(random: Random, ids: IdAllocator, options: GeneratorOptions, teams: SimTeam[]): SimService[] {
  return SERVICE_NAMES.map((name) => ({
    id: ids.object(),
    name,
    description: `Monitoring for ${name}`,
    teamId: random.pick(teams).id,
    escalationPolicyId: '',
    integrationId: ids.object(),
    integrationName: random.pick(['Datadog', 'Prometheus Alertmanager', 'Events API V2', 'Amazon CloudWatch']),
    createdAt: new Date(options.now.getTime() - random.integer(400, 1500) * DAY_MS),
  }));
}

/** Leaves paid seats that nobody holds on each license, so utilization is below 100%. */
function setSpareSeats(random: Random, licenses: SimLicense[], users: SimUser[]): void {
  for (const license of licenses) {
    const allocated = users.filter((user) => user.licenseId === license.id).length;
    license.allocationsAvailable = Math.ceil(allocated * 0.1) + random.integer(1, 5);
  }
}

interface History {
  incidents: SimIncident[];
  logEntries: SimLogEntry[];
}

function generateHistory(random: Random, ids: IdAllocator, options: GeneratorOptions, users: SimUser[], deletedUsers: SimUser[], services: SimService[]): History {
  const builder = new HistoryBuilder(random, ids, options, users, services);
  for (const user of users) {
    for (const actionAt of planActions(random, options, user.behaviour)) builder.addResponse(user, actionAt);
  }
  builder.addUnattendedIncidents();
  for (const user of deletedUsers) {
    for (const actionAt of planActions(random, options, user.behaviour)) builder.addResponse(user, actionAt);
  }
  return builder.finish();
}

/**
 * Plans the instants at which a person last acts in each incident they respond to, newest first. The
 * newest one is the person's last seen, kept clear of the 30- and 90-day window edges.
 */
export function planActions(random: Random, options: GeneratorOptions, behaviour: Behaviour): number[] {
  const now = options.now.getTime();
  const earliest = now - options.historyDays * DAY_MS + 2 * HOUR_MS;
  const latest = now - 5 * MINUTE_MS;
  const instants: number[] = [];

  const addBackwards = (start: number, minGapDays: number, maxGapDays: number): void => {
    for (let at = start; at >= earliest; at -= random.integer(minGapDays * 24, maxGapDays * 24) * HOUR_MS) instants.push(at);
  };

  switch (behaviour) {
    // Acts on most days, sometimes twice.
    case 'daily_responder':
      for (let daysAgo = 0; daysAgo < options.historyDays; daysAgo += 1) {
        if (!random.chance(0.85)) continue;
        const episodes = random.chance(0.3) ? 2 : 1;
        for (let episode = 0; episode < episodes; episode += 1) instants.push(now - daysAgo * DAY_MS - random.integer(0, DAY_MS - 1));
      }
      break;
    // Acts in most weeks, once.
    case 'weekly_responder':
      for (let weeksAgo = 0; weeksAgo * 7 < options.historyDays; weeksAgo += 1) {
        if (random.chance(0.9)) instants.push(now - weeksAgo * 7 * DAY_MS - random.integer(0, 7 * DAY_MS - 1));
      }
      break;
    // Acts every ten to twenty-five days; the latest action is within the last three weeks.
    case 'occasional_responder':
      addBackwards(now - random.integer(1, 20 * 24) * HOUR_MS, 10, 25);
      break;
    // Stopped 31 to 89 days ago.
    case 'lapsed_responder':
      addBackwards(now - random.integer(31 * 24, 89 * 24) * HOUR_MS, 3, 15);
      break;
    // Stopped more than 90 days ago, so a 90-day sync reads none of their actions.
    case 'dormant_responder':
      if (options.historyDays > 92) addBackwards(now - random.integer(91 * 24, (options.historyDays - 1) * 24) * HOUR_MS, 5, 15);
      break;
    // Allocated seats whose holders never act, and stakeholders who only watch.
    case 'never_acts':
    case 'stakeholder':
      break;
    default: {
      const unhandled: never = behaviour;
      throw new Error(`planActions: unknown behaviour ${String(unhandled)}`);
    }
  }

  const inRange = instants.filter((at) => at >= earliest && at <= latest).sort((a, b) => b - a);
  const newest = inRange[0];
  if (newest !== undefined) inRange[0] = clearOfWindowEdges(newest, now);
  return inRange;
}

/** Moves an instant within six hours of a window edge to seven hours after that edge. */
function clearOfWindowEdges(at: number, now: number): number {
  for (const days of WINDOW_EDGES_DAYS) {
    const edge = now - days * DAY_MS;
    if (Math.abs(at - edge) < WINDOW_EDGE_MARGIN_MS) return edge + WINDOW_EDGE_MARGIN_MS + HOUR_MS;
  }
  return at;
}

const USER_CHANNELS: readonly (readonly [SimChannel['type'], number])[] = [
  ['website', 55],
  ['slack', 15],
  ['sms', 12],
  ['email', 8],
];

/** Builds incidents and their log entries; each response belongs to exactly one person. */
class HistoryBuilder {
  private readonly incidents: SimIncident[] = [];
  private readonly logEntries: SimLogEntry[] = [];
  private readonly responders: SimUser[];

  constructor(
    private readonly random: Random,
    private readonly ids: IdAllocator,
    private readonly options: GeneratorOptions,
    users: SimUser[],
    private readonly services: SimService[],
  ) {
    this.responders = users.filter((user) => user.behaviour !== 'stakeholder' && user.behaviour !== 'never_acts');
  }

  /**
   * Adds an incident in which `user` acts, their last action at `lastActionAt`. Entries after that
   * instant are service or integration actions, and only those at or before `now` are kept.
   */
  addResponse(user: SimUser, lastActionAt: number): void {
    const random = this.random;
    const service = random.pick(this.services);
    const variant = random.weighted([
      ['ack_resolve', 55],
      ['ack_then_auto_resolve', 16],
      ['ack_then_delegate', 4],
      ['annotate_resolve', 10],
      ['snooze_resolve', 5],
      ['escalated_ack', 10],
    ] as const);

    const userActions: { type: SimLogEntry['type']; at: number; note?: string; snoozeSeconds?: number }[] = [];
    switch (variant) {
      // Acknowledges, then resolves at the anchor.
      case 'ack_resolve':
        userActions.push({ type: 'acknowledge_log_entry', at: lastActionAt - random.integer(2, 45) * MINUTE_MS }, { type: 'resolve_log_entry', at: lastActionAt });
        break;
      // Acknowledges at the anchor; monitoring resolves it later.
      // Acknowledges, then hands the incident to another escalation policy at the anchor.
      case 'ack_then_delegate':
        userActions.push({ type: 'acknowledge_log_entry', at: lastActionAt - random.integer(2, 20) * MINUTE_MS }, { type: 'delegate_log_entry', at: lastActionAt });
        break;
      case 'ack_then_auto_resolve':
      case 'escalated_ack':
        userActions.push({ type: 'acknowledge_log_entry', at: lastActionAt });
        break;
      // Acknowledges, leaves a note, resolves.
      case 'annotate_resolve':
        userActions.push(
          { type: 'acknowledge_log_entry', at: lastActionAt - random.integer(20, 60) * MINUTE_MS },
          { type: 'annotate_log_entry', at: lastActionAt - random.integer(1, 19) * MINUTE_MS, note: random.pick(NOTES) },
          { type: 'resolve_log_entry', at: lastActionAt },
        );
        break;
      // Acknowledges, snoozes for an hour, resolves.
      case 'snooze_resolve':
        userActions.push(
          { type: 'acknowledge_log_entry', at: lastActionAt - random.integer(70, 120) * MINUTE_MS },
          { type: 'snooze_log_entry', at: lastActionAt - random.integer(61, 69) * MINUTE_MS, snoozeSeconds: 3600 },
          { type: 'resolve_log_entry', at: lastActionAt },
        );
        break;
      default: {
        const unhandled: never = variant;
        throw new Error(`addResponse: unknown variant ${String(unhandled)}`);
      }
    }

    const firstActionAt = Math.min(...userActions.map((action) => action.at));
    const triggeredAt = firstActionAt - random.integer(1, 15) * MINUTE_MS - random.integer(0, 59) * 1000;
    const incident = this.openIncident(service, triggeredAt);
    const drawnChannel = random.weighted(USER_CHANNELS);
    const channelType = user.isMobileOnly ? 'sms' : drawnChannel;

    if (variant === 'escalated_ack') {
      const first = random.pick(this.responders);
      this.assignAndNotify(incident, service, first.id, triggeredAt);
      this.push(incident, 'escalate_log_entry', triggeredAt + 5 * MINUTE_MS, { type: 'service_reference', id: service.id }, { type: 'timeout' }, { userId: user.id });
      this.assignAndNotify(incident, service, user.id, triggeredAt + 5 * MINUTE_MS + 1000);
    } else {
      this.assignAndNotify(incident, service, user.id, triggeredAt);
    }

    for (const action of userActions) {
      const channel = action.type === 'annotate_log_entry' && !user.isMobileOnly ? { type: 'note' as const } : this.userChannel(channelType, user);
      this.push(incident, action.type, action.at, { type: 'user_reference', id: user.id }, channel, {
        ...(action.note === undefined ? {} : { note: action.note }),
        ...(action.snoozeSeconds === undefined ? {} : { snoozeSeconds: action.snoozeSeconds }),
      });
    }

    if (variant === 'ack_then_auto_resolve' || variant === 'escalated_ack' || variant === 'ack_then_delegate') {
      this.push(incident, 'resolve_log_entry', lastActionAt + random.integer(10, 180) * MINUTE_MS, { type: 'integration_reference', id: service.integrationId }, this.apiChannel(service));
    }
  }

  /** Adds incidents that monitoring opens and closes on its own, with no person acting. */
  addUnattendedIncidents(): void {
    const random = this.random;
    const now = this.options.now.getTime();
    for (let daysAgo = 0; daysAgo < this.options.historyDays; daysAgo += 1) {
      const count = random.integer(UNATTENDED_INCIDENTS_PER_DAY.min, UNATTENDED_INCIDENTS_PER_DAY.max);
      for (let index = 0; index < count; index += 1) {
        const service = random.pick(this.services);
        const triggeredAt = now - daysAgo * DAY_MS - random.integer(HOUR_MS, DAY_MS - 1);
        const incident = this.openIncident(service, triggeredAt, random.chance(0.15) ? 'nagios' : 'api');
        if (this.responders.length > 0) this.assignAndNotify(incident, service, random.pick(this.responders).id, triggeredAt);
        if (random.chance(0.3)) {
          this.push(incident, 'urgency_change_log_entry', triggeredAt + random.integer(1, 5) * MINUTE_MS, { type: 'service_reference', id: service.id }, { type: 'auto' });
        }
        if (random.chance(0.1)) this.addUnansweredEscalation(incident, service, triggeredAt);
        if (random.chance(0.02)) this.push(incident, 'reach_trigger_limit_log_entry', triggeredAt + 30_000, { type: 'service_reference', id: service.id }, { type: 'auto' });
        this.push(incident, 'resolve_log_entry', triggeredAt + random.integer(2, 40) * MINUTE_MS, { type: 'integration_reference', id: service.integrationId }, this.apiChannel(service));
      }
    }
  }

  /** Adds an escalation no one acknowledges: the policy repeats, runs out of rules, and sometimes logs the acknowledgement limit. */
  private addUnansweredEscalation(incident: SimIncident, service: SimService, triggeredAt: number): void {
    const agent: AgentRef = { type: 'service_reference', id: service.id };
    this.push(incident, 'escalate_log_entry', triggeredAt + 30 * MINUTE_MS, agent, { type: 'timeout' });
    this.push(incident, 'repeat_escalation_path_log_entry', triggeredAt + 60 * MINUTE_MS, agent, { type: 'timeout' });
    this.push(incident, 'exhaust_escalation_path_log_entry', triggeredAt + 90 * MINUTE_MS, agent, { type: 'timeout' });
    if (this.random.chance(0.3)) this.push(incident, 'reach_ack_limit_log_entry', triggeredAt + 91 * MINUTE_MS, agent, { type: 'auto' });
  }

  finish(): History {
    this.incidents.sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || compareText(a.id, b.id));
    this.incidents.forEach((incident, index) => {
      incident.number = index + 1;
    });
    this.logEntries.sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || compareText(a.id, b.id));
    return { incidents: this.incidents, logEntries: this.logEntries };
  }

  private openIncident(service: SimService, triggeredAt: number, triggerChannel: 'api' | 'nagios' = 'api'): SimIncident {
    const incident: SimIncident = {
      id: this.ids.object(),
      number: 0,
      title: this.random.pick(INCIDENT_TITLES).replace('{service}', service.name),
      serviceId: service.id,
      urgency: this.random.chance(0.8) ? 'high' : 'low',
      createdAt: new Date(triggeredAt),
    };
    this.incidents.push(incident);
    const channel: SimChannel = triggerChannel === 'nagios' ? { type: 'nagios', host: `${service.name.toLowerCase().replace(/\s+/g, '-')}-01`, service: 'HTTP', state: 'CRITICAL' } : this.apiChannel(service);
    this.push(incident, 'trigger_log_entry', triggeredAt, { type: 'integration_reference', id: service.integrationId }, channel);
    return incident;
  }

  private assignAndNotify(incident: SimIncident, service: SimService, userId: string, at: number): void {
    this.push(incident, 'assign_log_entry', at, { type: 'service_reference', id: service.id }, { type: 'auto' }, { userId });
    this.push(incident, 'notify_log_entry', at + this.random.integer(5, 60) * 1000, { type: 'service_reference', id: service.id }, { type: 'auto' }, { userId });
  }

  private apiChannel(service: SimService): SimChannel {
    return { type: 'api', serviceKey: service.integrationId.toLowerCase(), description: `Alert from ${service.integrationName}` };
  }

  private userChannel(type: SimChannel['type'], user: SimUser): SimChannel {
    if (type === 'email') return { type: 'email', from: user.email, subject: 'Re: incident notification' };
    if (type === 'website' || type === 'slack' || type === 'sms') return { type };
    return { type: 'website' };
  }

  private push(
    incident: SimIncident,
    type: SimLogEntry['type'],
    at: number,
    agent: AgentRef,
    channel: SimChannel,
    extra: Pick<SimLogEntry, 'userId' | 'note' | 'snoozeSeconds'> = {},
  ): void {
    if (at > this.options.now.getTime()) return;
    this.logEntries.push({
      id: this.ids.logEntry(),
      type,
      // PagerDuty reports log entry times to the second.
      createdAt: new Date(Math.floor(at / 1000) * 1000),
      incidentId: incident.id,
      serviceId: incident.serviceId,
      agent,
      channel,
      ...extra,
    });
  }
}

function compareText(a: string, b: string): number {
  if (a < b) return -1;
  return a > b ? 1 : 0;
}

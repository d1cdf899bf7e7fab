import { sql, type Kysely, type Transaction } from 'kysely';
import type { BillingPeriod, DB, RecommendationKind, RecommendationStatus } from '../db/schema.ts';
import { licenseLabel, pagerDutyRoleLabel } from '../exports/labels.ts';
import { PAGERDUTY_FEATURES, PAGERDUTY_PROVIDER } from './pagerduty-features.ts';
import { activitySignalOf } from './people.ts';
import { daysBefore, type CrunchScope } from './scope.ts';

/** The default number of days without activity before a seat counts as unused. */
export const DEFAULT_UNUSED_DAYS = 90;
export const UNUSED_DAYS_CHOICES = [30, 60, 90] as const;
export type UnusedDays = (typeof UNUSED_DAYS_CHOICES)[number];

export type GuardrailCode =
  | 'strands_escalation_level'
  | 'strands_schedule'
  | 'upcoming_on_call'
  | 'permanent_on_call'
  | 'on_escalation_policy'
  | 'open_incidents'
  | 'account_owner'
  | 'last_admin'
  | 'exempt'
  | 'no_stakeholder_seat'
  | 'seat_by_role';

export interface Guardrail {
  code: GuardrailCode;
  /** `block` stops the recommendation; `flag` lets it stand with a warning. */
  severity: 'block' | 'flag';
  message: string;
}

export interface ContractTerms {
  currency: string;
  billingPeriod: BillingPeriod;
  /** `YYYY-MM-DD`, or null when not entered. */
  renewalDate: string | null;
  noticePeriodDays: number;
  lines: Array<{ licenseName: string; roleGroup: string | null; pricePerSeatMinor: number }>;
}

/** One person as the recommendation rules see them. */
export interface RecommendationCandidate {
  externalId: string;
  name: string;
  email: string;
  role: string;
  licenseId: string | null;
  licenseName: string | null;
  roleGroup: string | null;
  invitationSent: boolean;
  isInvitedNeverSignedUp: boolean;
  /** Creation time of the person in PagerDuty, from its analytics, or null when analytics were not read. */
  createdAt: Date | null;
  lastActivityAt: Date | null;
  lastActivitySignal: string | null;
  /** Incident actions (acknowledge, resolve, notes, ...) in the last `unusedDays` days. */
  responderActions: number;
  /** On-call shifts and overrides started in the last `unusedDays` days. */
  onCallShifts: number;
  /** Configuration changes in the last `unusedDays` days; Stakeholders cannot make them. */
  configurationChanges: number;
  /**
   * Business services and incidents the person subscribed to for status updates, read by a sync in
   * the last `unusedDays` days. A team's subscriptions do not count: they show no choice of the person.
   */
  stakeholderSubscriptions: number;
  escalationPolicyIds: string[];
  scheduleIds: string[];
  upcomingShiftCount: number;
  isPermanentOnCall: boolean;
  openIncidentCount: number;
  /** Escalation levels (`policy#position`) left without any target once this person goes. */
  strandedLevels: string[];
  /** Schedules whose only member is this person. */
  strandedSchedules: string[];
}

export interface RecommendationInput {
  asOf: Date;
  unusedDays: UnusedDays;
  contract: ContractTerms | null;
  exemptEmails: Set<string>;
  adminCount: number;
  /** Free stakeholder seats; null when unlimited or unknown. */
  stakeholderSeatsAvailable: number | null;
  /**
   * `license` when each candidate's seat is their PagerDuty license. `role` when PagerDuty did not
   * allow reading licenses, so each seat is the seat type the person's role needs.
   */
  seatBasis: 'license' | 'role';
  candidates: RecommendationCandidate[];
}

export interface Recommendation {
  kind: RecommendationKind;
  externalId: string;
  email: string;
  name: string;
  licenseId: string | null;
  licenseName: string | null;
  status: RecommendationStatus;
  currency: string | null;
  /** Saving over a year in minor currency units; null without a contract price for the license. */
  yearlySavingMinor: number | null;
  /** `YYYY-MM-DD`: the first day the change lowers the bill. */
  effectiveDate: string;
  evidence: Record<string, unknown>;
  guardrails: Guardrail[];
}

/**
 * Applies the recommendation rules to every candidate:
 * - nothing for a person PagerDuty's analytics report as created within the last `unusedDays` days;
 * - `remove_invitation`: a licensed person invited but never signed up;
 * - `reclaim_seat`: a licensed person with no activity on any signal and no stakeholder subscription
 *   in `unusedDays` days;
 * - `downgrade_to_stakeholder`: a Full User only watching in `unusedDays` days: either active but
 *   with no incident action, no on-call shift, no configuration change and no escalation policy
 *   membership, or inactive but subscribed to business services or incidents for status updates.
 * A Stakeholder who only follows status updates keeps the seat, because that is what it is for.
 * Guardrails then block or flag each one.
 */
export function buildRecommendations(input: RecommendationInput): Recommendation[] {
  const unusedSince = daysBefore(input.asOf, input.unusedDays);
  const effectiveDate = computeEffectiveDate(input.asOf, input.contract);
  const recommendations: Recommendation[] = [];

  for (const candidate of input.candidates) {
    const seat = seatOf(candidate, input.seatBasis);
    if (seat === null) continue;
    const kind = classify(candidate, unusedSince);
    if (kind === null) continue;

    const guardrails = evaluateGuardrails(kind, candidate, input);
    const saving = yearlySaving(kind, candidate, input.contract);
    recommendations.push({
      kind,
      externalId: candidate.externalId,
      email: candidate.email,
      name: candidate.name,
      licenseId: seat.licenseId,
      licenseName: seat.licenseName,
      status: statusOf(guardrails),
      currency: input.contract?.currency ?? null,
      yearlySavingMinor: saving,
      effectiveDate,
      evidence: evidenceOf(kind, candidate, seat.licenseName, input),
      guardrails,
    });
  }
  return recommendations;
}

/**
 * Returns the seat a recommendation would change: the person's license, or with seats by role the
 * seat type their role needs, labelled like the people pages ("Full User (by role)"). Null when the
 * person holds no seat that Seatwise knows of.
 */
function seatOf(candidate: RecommendationCandidate, seatBasis: RecommendationInput['seatBasis']): { licenseId: string | null; licenseName: string | null } | null {
  if (seatBasis === 'license') {
    return candidate.licenseId === null ? null : { licenseId: candidate.licenseId, licenseName: candidate.licenseName };
  }
  if (candidate.roleGroup === null) return null;
  return { licenseId: null, licenseName: licenseLabel({ licenseName: null, roleGroup: candidate.roleGroup, seatBasis }) };
}

function classify(candidate: RecommendationCandidate, unusedSince: Date): RecommendationKind | null {
  // Someone created within the window has not had the whole window to join or act.
  if (candidate.createdAt !== null && candidate.createdAt > unusedSince) return null;
  if (candidate.isInvitedNeverSignedUp) return 'remove_invitation';

  const isUnused = candidate.lastActivityAt === null || candidate.lastActivityAt < unusedSince;
  if (isUnused && candidate.stakeholderSubscriptions === 0) return 'reclaim_seat';
  // A Stakeholder seat is enough to keep status updates reaching the person.
  if (isUnused) return candidate.roleGroup === 'FullUser' ? 'downgrade_to_stakeholder' : null;

  const isOnlyWatching =
    candidate.roleGroup === 'FullUser' &&
    candidate.responderActions === 0 &&
    candidate.onCallShifts === 0 &&
    candidate.configurationChanges === 0 &&
    !candidate.isPermanentOnCall &&
    candidate.escalationPolicyIds.length === 0;
  return isOnlyWatching ? 'downgrade_to_stakeholder' : null;
}

function evaluateGuardrails(kind: RecommendationKind, candidate: RecommendationCandidate, input: RecommendationInput): Guardrail[] {
  const guardrails: Guardrail[] = [];
  const block = (code: GuardrailCode, message: string) => guardrails.push({ code, severity: 'block', message });
  const flag = (code: GuardrailCode, message: string) => guardrails.push({ code, severity: 'flag', message });

  if (input.exemptEmails.has(candidate.email.toLowerCase())) {
    block('exempt', `${candidate.email} is on the exempt list.`);
  }
  if (candidate.role === 'owner') {
    block('account_owner', 'The account owner keeps a Full User seat; transfer ownership first.');
  }
  if (candidate.role === 'admin' && input.adminCount <= 1) {
    block('last_admin', 'This is the last admin of the account; make someone else an admin first.');
  }
  if (candidate.openIncidentCount > 0) {
    block('open_incidents', `${candidate.openIncidentCount} open incident(s) are assigned to this person; resolve or reassign them first.`);
  }
  for (const level of candidate.strandedLevels) {
    block('strands_escalation_level', `Escalation level ${level} would have nobody left; add another target first.`);
  }
  for (const schedule of candidate.strandedSchedules) {
    block('strands_schedule', `Schedule ${schedule} would have nobody left; add another member first.`);
  }
  if (candidate.isPermanentOnCall) {
    block('permanent_on_call', 'This person is permanently on call; replace them on the escalation policy first.');
  }
  if (candidate.upcomingShiftCount > 0) {
    block('upcoming_on_call', `${candidate.upcomingShiftCount} on-call shift(s) in the next 90 days would be left empty; hand them over first.`);
  }
  if (candidate.escalationPolicyIds.length > 0 && candidate.strandedLevels.length === 0) {
    flag('on_escalation_policy', `Still a target of ${candidate.escalationPolicyIds.length} escalation policy(ies); remove them from those first.`);
  }
  if (kind === 'downgrade_to_stakeholder' && input.stakeholderSeatsAvailable !== null && input.stakeholderSeatsAvailable <= 0) {
    flag('no_stakeholder_seat', 'No free Stakeholder seat: buy a Stakeholder seat or reclaim one first.');
  }
  if (input.seatBasis === 'role') {
    flag(
      'seat_by_role',
      `PagerDuty did not allow reading licenses, so the seat is the one the ${pagerDutyRoleLabel(candidate.role)} role needs; check this person's license in PagerDuty first.`,
    );
  }
  return guardrails;
}

function statusOf(guardrails: Guardrail[]): RecommendationStatus {
  if (guardrails.some((guardrail) => guardrail.severity === 'block')) return 'blocked';
  if (guardrails.length > 0) return 'flagged';
  return 'ready';
}

function evidenceOf(kind: RecommendationKind, candidate: RecommendationCandidate, licenseName: string | null, input: RecommendationInput): Record<string, unknown> {
  return {
    windowDays: input.unusedDays,
    license: licenseName,
    seatBasis: input.seatBasis,
    role: candidate.role,
    lastActivityAt: candidate.lastActivityAt?.toISOString() ?? null,
    lastActivitySignal: candidate.lastActivitySignal,
    responderActions: candidate.responderActions,
    onCallShifts: candidate.onCallShifts,
    configurationChanges: candidate.configurationChanges,
    stakeholderSubscriptions: candidate.stakeholderSubscriptions,
    escalationPolicies: candidate.escalationPolicyIds.length,
    schedules: candidate.scheduleIds.length,
    ...(kind === 'remove_invitation' ? { invitationSent: candidate.invitationSent } : {}),
  };
}

/**
 * Returns the yearly saving in minor units from the contract price of the person's license; a
 * downgrade saves the difference to the Stakeholder price. Null when a needed price is missing.
 */
export function yearlySaving(kind: RecommendationKind, candidate: RecommendationCandidate, contract: ContractTerms | null): number | null {
  if (contract === null) return null;
  const periodsPerYear = contract.billingPeriod === 'monthly' ? 12 : 1;
  const current = findPrice(contract, candidate.licenseName, candidate.roleGroup);
  if (current === null) return null;

  switch (kind) {
    // Removing the seat saves its whole price.
    case 'reclaim_seat':
    case 'remove_invitation':
      return current * periodsPerYear;
    // A downgrade still pays for a Stakeholder seat.
    case 'downgrade_to_stakeholder': {
      const stakeholder = findPrice(contract, null, 'Stakeholder');
      if (stakeholder === null) return null;
      return Math.max(0, current - stakeholder) * periodsPerYear;
    }
    default: {
      const unreachable: never = kind;
      throw new Error(`Unknown recommendation kind ${String(unreachable)}`);
    }
  }
}

/** Finds a price by exact license name (case-insensitive), else by a single line of the role group. */
function findPrice(contract: ContractTerms, licenseName: string | null, roleGroup: string | null): number | null {
  if (licenseName !== null) {
    const byName = contract.lines.find((line) => line.licenseName.toLowerCase() === licenseName.toLowerCase());
    if (byName !== undefined) return byName.pricePerSeatMinor;
  }
  if (roleGroup === null) return null;
  const byGroup = contract.lines.filter((line) => (line.roleGroup ?? inferRoleGroup(line.licenseName)) === roleGroup);
  const only = byGroup.length === 1 ? byGroup[0] : undefined;
  return only === undefined ? null : only.pricePerSeatMinor;
}

/** PagerDuty license names end in "(Full User)" or "(Stakeholder)", as in "Business (Full User)". */
function inferRoleGroup(licenseName: string): string | null {
  const lower = licenseName.toLowerCase();
  if (lower.includes('stakeholder')) return 'Stakeholder';
  if (lower.includes('full user')) return 'FullUser';
  return null;
}

/**
 * Returns the first day a seat change lowers the bill, as `YYYY-MM-DD` (UTC). PagerDuty bills each
 * month's highest user count, so a seat removed now stops costing from the first of next month.
 * An annual contract with a renewal date changes at the first renewal whose notice deadline
 * (renewal date minus the notice period) is still ahead.
 */
export function computeEffectiveDate(asOf: Date, contract: ContractTerms | null): string {
  const nextMonth = new Date(Date.UTC(asOf.getUTCFullYear(), asOf.getUTCMonth() + 1, 1));
  if (contract === null || contract.billingPeriod !== 'annual' || contract.renewalDate === null) {
    return nextMonth.toISOString().slice(0, 10);
  }

  const firstRenewal = new Date(`${contract.renewalDate}T00:00:00Z`);
  if (Number.isNaN(firstRenewal.getTime())) throw new Error(`Invalid contract renewal date ${JSON.stringify(contract.renewalDate)}; expected YYYY-MM-DD.`);
  const today = new Date(Date.UTC(asOf.getUTCFullYear(), asOf.getUTCMonth(), asOf.getUTCDate()));
  let renewal = firstRenewal;
  for (let years = 1; daysBefore(renewal, contract.noticePeriodDays) < today; years += 1) {
    renewal = anniversary(firstRenewal, years);
  }
  return renewal.toISOString().slice(0, 10);
}

/** Returns the date `years` years after `date`. A 29 February falls on 28 February in years without one. */
function anniversary(date: Date, years: number): Date {
  const year = date.getUTCFullYear() + years;
  const lastDayOfMonth = new Date(Date.UTC(year, date.getUTCMonth() + 1, 0)).getUTCDate();
  return new Date(Date.UTC(year, date.getUTCMonth(), Math.min(date.getUTCDate(), lastDayOfMonth)));
}

/** Loads the candidates, contract, settings and exemptions of a connection and rewrites its recommendations. */
export async function recomputeRecommendations(trx: Transaction<DB>, scope: CrunchScope): Promise<void> {
  const settings = await trx
    .selectFrom('recommendation_settings')
    .select('unused_days')
    .where('organization_id', '=', scope.organizationId)
    .where('provider', '=', PAGERDUTY_PROVIDER)
    .executeTakeFirst();
  const unusedDays = toUnusedDays(settings?.unused_days ?? DEFAULT_UNUSED_DAYS);
  const seatBasis = await loadSeatBasis(trx, scope.connectionId);

  const input: RecommendationInput = {
    asOf: scope.asOf,
    unusedDays,
    contract: await loadContractTerms(trx, scope.organizationId),
    exemptEmails: await loadExemptEmails(trx, scope.organizationId),
    adminCount: await countAdmins(trx, scope.connectionId),
    stakeholderSeatsAvailable: await loadStakeholderSeatsAvailable(trx, scope.connectionId, seatBasis),
    seatBasis,
    candidates: await loadCandidates(trx, scope, unusedDays),
  };
  const recommendations = buildRecommendations(input);

  await trx.deleteFrom('recommendations').where('connection_id', '=', scope.connectionId).execute();
  const BATCH_SIZE = 500;
  for (let start = 0; start < recommendations.length; start += BATCH_SIZE) {
    const batch = recommendations.slice(start, start + BATCH_SIZE);
    await trx
      .insertInto('recommendations')
      .values(
        batch.map((recommendation) => ({
          connection_id: scope.connectionId,
          organization_id: scope.organizationId,
          kind: recommendation.kind,
          external_id: recommendation.externalId,
          email: recommendation.email,
          name: recommendation.name,
          license_id: recommendation.licenseId,
          license_name: recommendation.licenseName,
          status: recommendation.status,
          currency: recommendation.currency,
          yearly_saving_minor: recommendation.yearlySavingMinor,
          effective_date: recommendation.effectiveDate,
          evidence: JSON.stringify(recommendation.evidence),
          guardrails: JSON.stringify(recommendation.guardrails),
          computed_at: scope.asOf,
        })),
      )
      .execute();
  }
}

function toUnusedDays(days: number): UnusedDays {
  const match = UNUSED_DAYS_CHOICES.find((choice) => choice === days);
  if (match === undefined) throw new Error(`Invalid unused_days ${days}; expected one of ${UNUSED_DAYS_CHOICES.join(', ')}.`);
  return match;
}

export async function loadContractTerms(trx: Transaction<DB>, organizationId: string): Promise<ContractTerms | null> {
  const contract = await trx
    .selectFrom('contracts')
    // Dates are read as text: node-postgres would turn them into local-time Date objects.
    .select(['id', 'currency', 'billing_period', sql<string | null>`renewal_date::text`.as('renewal_date'), 'notice_period_days'])
    .where('organization_id', '=', organizationId)
    .where('provider', '=', PAGERDUTY_PROVIDER)
    .executeTakeFirst();
  if (contract === undefined) return null;
  const lines = await trx
    .selectFrom('contract_lines')
    .select(['license_name', 'role_group', 'price_per_seat_minor'])
    .where('contract_id', '=', contract.id)
    .execute();
  return {
    currency: contract.currency,
    billingPeriod: contract.billing_period,
    renewalDate: contract.renewal_date,
    noticePeriodDays: contract.notice_period_days,
    lines: lines.map((line) => ({ licenseName: line.license_name, roleGroup: line.role_group, pricePerSeatMinor: line.price_per_seat_minor })),
  };
}

async function loadExemptEmails(trx: Transaction<DB>, organizationId: string): Promise<Set<string>> {
  const rows = await trx
    .selectFrom('recommendation_exemptions')
    .select('email')
    .where('organization_id', '=', organizationId)
    .where('provider', '=', PAGERDUTY_PROVIDER)
    .execute();
  return new Set(rows.map((row) => row.email));
}

async function countAdmins(trx: Transaction<DB>, connectionId: string): Promise<number> {
  const row = await trx
    .selectFrom('pd_users')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('connection_id', '=', connectionId)
    .where('role', '=', 'admin')
    .where('deleted_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

/**
 * Returns the free Stakeholder seats. With seats by role, PagerDuty's license figures are unknown,
 * so they are the Stakeholder seats of the contract less the people whose role needs one, or null
 * when the contract does not state that seat count.
 */
async function loadStakeholderSeatsAvailable(trx: Transaction<DB>, connectionId: string, seatBasis: RecommendationInput['seatBasis']): Promise<number | null> {
  if (seatBasis === 'role') {
    const byRole = await trx
      .selectFrom('seat_summaries')
      .select(['paid', 'allocated'])
      .where('connection_id', '=', connectionId)
      .where('basis', '=', 'role')
      .where('role_group', '=', 'Stakeholder')
      .executeTakeFirst();
    if (byRole === undefined || byRole.paid === null) return null;
    return byRole.paid - byRole.allocated;
  }

  const rows = await trx
    .selectFrom('pd_licenses')
    .select('allocations_available')
    .where('connection_id', '=', connectionId)
    .where('role_group', '=', 'Stakeholder')
    .execute();
  if (rows.length === 0) return 0;
  if (rows.some((row) => row.allocations_available === null)) return null;
  return rows.reduce((sum, row) => sum + (row.allocations_available ?? 0), 0);
}

/** Returns the seat basis the seat summaries of the crunch used, which runs before the recommendations. */
async function loadSeatBasis(trx: Transaction<DB>, connectionId: string): Promise<RecommendationInput['seatBasis']> {
  const row = await trx.selectFrom('seat_summaries').select('basis').where('connection_id', '=', connectionId).where('basis', '=', 'role').limit(1).executeTakeFirst();
  return row === undefined ? 'license' : 'role';
}

const RESPONDER_FEATURE_KEYS = PAGERDUTY_FEATURES.filter((feature) => activitySignalOf(feature) === 'incident_action').map((feature) => feature.key);
const ON_CALL_FEATURE_KEYS = PAGERDUTY_FEATURES.filter((feature) => activitySignalOf(feature) === 'on_call_shift').map((feature) => feature.key);
const CONFIGURATION_FEATURE_KEYS = PAGERDUTY_FEATURES.filter((feature) => activitySignalOf(feature) === 'configuration_change').map((feature) => feature.key);

async function loadCandidates(trx: Transaction<DB>, scope: CrunchScope, unusedDays: UnusedDays): Promise<RecommendationCandidate[]> {
  const countColumn = sql.ref(`pf.count_${unusedDays}d`);
  const connection = sql`${scope.connectionId}::uuid`;
  const result = await sql<{
    external_id: string;
    name: string;
    email: string;
    role: string;
    license_id: string | null;
    license_name: string | null;
    role_group: string | null;
    invitation_sent: boolean;
    is_invited_never_signed_up: boolean;
    created_at_text: string | null;
    last_activity_at: Date | string | null;
    last_activity_signal: string | null;
    responder_actions: number;
    on_call_shifts: number;
    configuration_changes: number;
    stakeholder_subscriptions: number;
    escalation_policy_ids: string[];
    schedule_ids: string[];
    upcoming_shift_count: number;
    is_permanent_on_call: boolean;
    open_incident_count: number;
    stranded_levels: string[] | null;
    stranded_schedules: string[] | null;
  }>`
    with
    schedule_sizes as (
      select lu.schedule_id, min(lu.user_id) as only_user_id
      from pd_schedule_layer_users lu
      join pd_schedules s on s.connection_id = lu.connection_id and s.id = lu.schedule_id and s.deleted_at is null
      join pd_users u on u.connection_id = lu.connection_id and u.id = lu.user_id and u.deleted_at is null
      where lu.connection_id = ${connection}
      group by lu.schedule_id
      having count(distinct lu.user_id) = 1
    ),
    level_targets as (
      select
        t.escalation_policy_id, t.rule_position,
        case
          when t.target_type in ('user', 'user_reference') then t.target_id
          else (select ss.only_user_id from schedule_sizes ss where ss.schedule_id = t.target_id)
        end as only_user_id
      from pd_escalation_targets t
      join pd_escalation_policies p on p.connection_id = t.connection_id and p.id = t.escalation_policy_id and p.deleted_at is null
      left join pd_users tu on t.target_type in ('user', 'user_reference') and tu.connection_id = t.connection_id and tu.id = t.target_id
      where t.connection_id = ${connection}
        and not (t.target_type in ('user', 'user_reference') and tu.deleted_at is not null)
    ),
    stranded_levels as (
      select min(only_user_id) as user_id, escalation_policy_id || '#' || rule_position::text as level
      from level_targets
      group by escalation_policy_id, rule_position
      having count(*) = count(only_user_id) and count(distinct only_user_id) = 1
    ),
    feature_counts as (
      select
        pf.external_id,
        coalesce(sum(${countColumn}) filter (where pf.feature_key in (${sql.join(RESPONDER_FEATURE_KEYS)})), 0)::int as responder_actions,
        coalesce(sum(${countColumn}) filter (where pf.feature_key in (${sql.join(ON_CALL_FEATURE_KEYS)})), 0)::int as on_call_shifts,
        coalesce(sum(${countColumn}) filter (where pf.feature_key in (${sql.join(CONFIGURATION_FEATURE_KEYS)})), 0)::int as configuration_changes
      from person_features pf
      where pf.connection_id = ${connection}
      group by pf.external_id
    ),
    direct_subscriptions as (
      select s.subscriber_id as external_id, count(*)::int as stakeholder_subscriptions
      from pd_notification_subscriptions s
      where s.connection_id = ${connection} and s.subscriber_type = 'user'
        and s.first_seen_at <= ${scope.asOf}::timestamptz and s.synced_at >= ${daysBefore(scope.asOf, unusedDays)}::timestamptz
      group by s.subscriber_id
    )
    select
      p.external_id, p.name, p.email, p.role, p.license_id, p.license_name, p.role_group,
      u.invitation_sent, p.is_invited_never_signed_up, au.raw->>'created_at' as created_at_text, p.last_activity_at, p.last_activity_signal,
      coalesce(fc.responder_actions, 0) as responder_actions,
      coalesce(fc.on_call_shifts, 0) as on_call_shifts,
      coalesce(fc.configuration_changes, 0) as configuration_changes,
      coalesce(ds.stakeholder_subscriptions, 0) as stakeholder_subscriptions,
      p.escalation_policy_ids, p.schedule_ids, p.upcoming_shift_count, p.is_permanent_on_call, p.open_incident_count,
      (select jsonb_agg(sl.level order by sl.level) from stranded_levels sl where sl.user_id = p.external_id) as stranded_levels,
      (select jsonb_agg(ss.schedule_id order by ss.schedule_id) from schedule_sizes ss where ss.only_user_id = p.external_id) as stranded_schedules
    from people p
    join pd_users u on u.connection_id = p.connection_id and u.id = p.external_id
    left join pd_analytics_users au on au.connection_id = p.connection_id and au.user_id = p.external_id
    left join feature_counts fc on fc.external_id = p.external_id
    left join direct_subscriptions ds on ds.external_id = p.external_id
    where p.connection_id = ${connection} and not p.is_deleted
    order by p.external_id
  `.execute(trx);

  return result.rows.map((row) => ({
    externalId: row.external_id,
    name: row.name,
    email: row.email,
    role: row.role,
    licenseId: row.license_id,
    licenseName: row.license_name,
    roleGroup: row.role_group,
    invitationSent: row.invitation_sent,
    isInvitedNeverSignedUp: row.is_invited_never_signed_up,
    createdAt: parseInstant(row.created_at_text),
    lastActivityAt: row.last_activity_at === null ? null : new Date(row.last_activity_at),
    lastActivitySignal: row.last_activity_signal,
    responderActions: Number(row.responder_actions),
    onCallShifts: Number(row.on_call_shifts),
    configurationChanges: Number(row.configuration_changes),
    stakeholderSubscriptions: Number(row.stakeholder_subscriptions),
    escalationPolicyIds: row.escalation_policy_ids,
    scheduleIds: row.schedule_ids,
    upcomingShiftCount: row.upcoming_shift_count,
    isPermanentOnCall: row.is_permanent_on_call,
    openIncidentCount: row.open_incident_count,
    strandedLevels: row.stranded_levels ?? [],
    strandedSchedules: row.stranded_schedules ?? [],
  }));
}

/**
 * Rewrites the recommendations of an organization's live connection after its contract, threshold
 * or exempt list changed, so savings follow the new prices without waiting for the next sync. It
 * reuses the last crunch's instant (the people rows' `computed_at`) so the recommendations stay
 * consistent with the last-seen facts they are built from. Returns that instant, or null when no
 * crunch has run yet.
 */
export async function recomputeRecommendationsOfOrganization(db: Kysely<DB>, organizationId: string): Promise<Date | null> {
  return db.transaction().execute(async (trx) => {
    const lastCrunch = await trx
      .selectFrom('people')
      .innerJoin('connections', 'connections.id', 'people.connection_id')
      .select(['people.connection_id', (eb) => eb.fn.max('people.computed_at').as('as_of')])
      .where('connections.organization_id', '=', organizationId)
      .where('connections.archived_at', 'is', null)
      .groupBy('people.connection_id')
      .executeTakeFirst();
    if (lastCrunch === undefined || lastCrunch.as_of === null) return null;

    const asOf = new Date(lastCrunch.as_of);
    // NOTE: nothing serialises this with a crunch of the same connection running at the same
    // time; the next crunch rewrites these rows from the saved settings either way.
    await recomputeRecommendations(trx, { connectionId: lastCrunch.connection_id, organizationId, asOf });
    return asOf;
  });
}

/** Parses an instant PagerDuty sent as text, or returns null when it is missing or not a date. */
function parseInstant(text: string | null): Date | null {
  if (text === null) return null;
  const instant = new Date(text);
  return Number.isNaN(instant.getTime()) ? null : instant;
}

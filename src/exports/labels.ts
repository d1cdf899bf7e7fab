import type { RecommendationKind, RecommendationStatus } from '../db/schema.ts';

/** The words the dashboard and its exports use for each recommendation kind: a group title and an action. */
export const RECOMMENDATION_KIND_LABELS: Record<RecommendationKind, { title: string; action: string }> = {
  reclaim_seat: { title: 'Reclaim unused seats', action: 'Reclaim seat' },
  downgrade_to_stakeholder: { title: 'Downgrade to Stakeholder', action: 'Downgrade to Stakeholder' },
  remove_invitation: { title: 'Remove unanswered invitations', action: 'Remove invitation' },
};

export const RECOMMENDATION_STATUS_LABELS: Record<RecommendationStatus, string> = {
  ready: 'Ready',
  flagged: 'Check first',
  blocked: 'Blocked',
};

export function recommendationKindLabel(kind: string): string {
  return kind in RECOMMENDATION_KIND_LABELS ? RECOMMENDATION_KIND_LABELS[kind as RecommendationKind].action : kind;
}

export function recommendationStatusLabel(status: string): string {
  return status in RECOMMENDATION_STATUS_LABELS ? RECOMMENDATION_STATUS_LABELS[status as RecommendationStatus] : status;
}

/**
 * The role names PagerDuty's web app shows for the `role` values of its REST API, by the mapping of
 * the Ansible module `community.general.pagerduty_user` (`pd_role_gui_value`). That mapping leaves
 * out the account owner, whose API value is `owner`. Unknown values are shown as humanized words.
 */
const PAGERDUTY_ROLE_LABELS: Record<string, string> = {
  owner: 'Account Owner',
  admin: 'Global Admin',
  user: 'Manager',
  limited_user: 'Responder',
  observer: 'Observer',
  restricted_access: 'Restricted Access',
  read_only_user: 'Stakeholder',
  read_only_limited_user: 'Limited Stakeholder',
};

export function pagerDutyRoleLabel(role: string): string {
  return PAGERDUTY_ROLE_LABELS[role] ?? humanize(role);
}

/** PagerDuty's names of the seat types of its role groups, as license names end: "Business (Full User)". */
const ROLE_GROUP_LABELS: Record<string, string> = {
  FullUser: 'Full User',
  Stakeholder: 'Stakeholder',
};

/**
 * Describes a person's license: its name, or null without a license. When seats are grouped by
 * role, it is the seat type the person's PagerDuty role needs, marked "(by role)" like the seat rows.
 */
export function licenseLabel(person: { licenseName: string | null; roleGroup: string | null; seatBasis: 'license' | 'role' }): string | null {
  if (person.seatBasis === 'license') return person.licenseName;
  const seatType = person.roleGroup === null ? 'Unknown seat type' : (ROLE_GROUP_LABELS[person.roleGroup] ?? humanize(person.roleGroup));
  return `${seatType} (by role)`;
}

/** Turns an identifier such as `incident_action` into words: "Incident action". */
export function humanize(identifier: string): string {
  const words = identifier.replace(/[_-]+/g, ' ').trim();
  if (words === '') return identifier;
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Describes a signal as "Incident action: acknowledge via mobile" from its kind and detail. */
export function describeSignal(signal: string | null, detail: string | null): string {
  if (signal === null) return detail ?? '';
  return detail === null ? humanize(signal) : `${humanize(signal)}: ${detail}`;
}

/** Converts minor units to the currency's main unit by its ISO 4217 exponent (2 for USD, 0 for JPY). */
export function toMajorUnits(minor: number, currency: string): number {
  const fractionDigits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  return minor / 10 ** fractionDigits;
}

import type { AuditAction } from '../../src/accounts/audit.ts';
import { humanize } from './format.ts';

/** Names of the audit log's actions as the Settings page shows them. */
const AUDIT_ACTION_LABELS: Record<AuditAction, string> = {
  'organization.created': 'Organization created',
  'session.signed_in': 'Signed in',
  'session.signed_out': 'Signed out',
  'password.reset_requested': 'Password reset requested',
  'password.reset': 'Password reset',
  'pagerduty.connect_started': 'PagerDuty connection started',
  'pagerduty.connected': 'PagerDuty connected',
  'pagerduty.connect_failed': 'PagerDuty connection failed',
  'pagerduty.archived': 'PagerDuty connection archived',
  'pagerduty.disconnected': 'PagerDuty disconnected',
  'pagerduty.sync_requested': 'PagerDuty sync requested',
  'pagerduty.invite_sent': 'PagerDuty admin invited to connect',
  'pagerduty.invite_used': 'PagerDuty admin invitation used',
  'settings.changed': 'Settings changed',
  'member.invited': 'Member invited',
  'member.joined': 'Member joined',
  'member.invite_revoked': 'Member invitation revoked',
  'member.role_changed': 'Member role changed',
  'member.removed': 'Member removed',
  'people.exported': 'People exported',
  'recommendations.exported': 'Recommendations exported',
};

/** Returns the label of an audit action, or the action in words when this build does not know it. */
export function auditActionLabel(action: string): string {
  if (Object.hasOwn(AUDIT_ACTION_LABELS, action)) return AUDIT_ACTION_LABELS[action as AuditAction];
  return humanize(action.replace('.', ' '));
}

import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../db/schema.ts';

/** Seatwise actions the audit log records. */
export type AuditAction =
  | 'organization.created'
  | 'session.signed_in'
  | 'session.signed_out'
  | 'password.reset_requested'
  | 'password.reset'
  | 'pagerduty.connect_started'
  | 'pagerduty.connected'
  | 'pagerduty.connect_failed'
  | 'pagerduty.archived'
  | 'pagerduty.disconnected'
  | 'pagerduty.sync_requested'
  | 'pagerduty.invite_sent'
  | 'pagerduty.invite_used'
  | 'settings.changed'
  | 'member.invited'
  | 'member.joined'
  | 'member.invite_revoked'
  | 'member.role_changed'
  | 'member.removed'
  | 'people.exported'
  | 'recommendations.exported';

export interface AuditEvent {
  organizationId: string;
  actorUserId: string | null;
  /** The actor as the log shows it: a user's email or a description such as an invitee. */
  actorLabel: string;
  action: AuditAction;
  /** Plain facts about the action; never a secret. */
  details?: Record<string, string | number | boolean | null>;
}

export async function recordAuditEvent(db: Kysely<DB> | Transaction<DB>, event: AuditEvent): Promise<void> {
  await db
    .insertInto('audit_events')
    .values({
      organization_id: event.organizationId,
      actor_user_id: event.actorUserId,
      actor_label: event.actorLabel,
      action: event.action,
      details: JSON.stringify(event.details ?? {}),
    })
    .execute();
}

export interface AuditEntry {
  id: string;
  actorLabel: string;
  action: string;
  details: Record<string, unknown>;
  createdAt: string;
}

export async function listAuditEvents(db: Kysely<DB>, organizationId: string, limit: number): Promise<AuditEntry[]> {
  const rows = await db
    .selectFrom('audit_events')
    .select(['id', 'actor_label', 'action', 'details', 'created_at'])
    .where('organization_id', '=', organizationId)
    .orderBy('created_at', 'desc')
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    id: row.id,
    actorLabel: row.actor_label,
    action: row.action,
    details: row.details,
    createdAt: row.created_at.toISOString(),
  }));
}

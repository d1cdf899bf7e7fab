import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { z } from 'zod';
import { requestEmpty, requestJson, type ApiFailure } from '../api.ts';
import {
  auditSchema,
  memberChangeSchema,
  memberInvitesSchema,
  membersSchema,
  roles,
  sentMemberInviteSchema,
  type AuditEventView,
  type MemberInviteView,
  type MemberView,
  type Role,
  type SessionView,
} from '../api-types.ts';
import { humanize } from '../format.ts';
import { auditActionLabel } from '../audit-labels.ts';
import { ErrorMessage, Loading, TableScroller, Time, useApiData } from './common.tsx';

/** Returns the roles a user with `actorRole` may give: owners any, admins any but owner. */
function assignableRoles(actorRole: string): readonly Role[] {
  return actorRole === 'owner' ? roles : roles.filter((role) => role !== 'owner');
}

/** Feedback of the last action on this page: a failure or a success sentence. */
type Feedback = { kind: 'failure'; failure: ApiFailure } | { kind: 'success'; message: string } | null;

/**
 * Renders the members of the organization with their roles, the invitation form, the pending
 * invitations and the audit log. Owners and admins change roles and remove members. The server
 * enforces the owner rules and returns a sentence when a change is not allowed.
 */
export function MembersSettings({ session }: { session: SessionView }): JSX.Element {
  const members = useApiData('/api/members', membersSchema);
  const invites = useApiData('/api/members/invites', memberInvitesSchema);
  const audit = useApiData('/api/audit', auditSchema);
  const [feedback, setFeedback] = useState<Feedback>(null);

  /** Runs one change, then reloads every list it can affect. */
  const change = async (action: () => Promise<{ ok: true } | { ok: false; error: ApiFailure }>, successMessage: string): Promise<boolean> => {
    setFeedback(null);
    const result = await action();
    await Promise.all([members.reload(), invites.reload(), audit.reload()]);
    setFeedback(result.ok ? { kind: 'success', message: successMessage } : { kind: 'failure', failure: result.error });
    return result.ok;
  };
  const csrf = { csrfToken: session.csrfToken };

  const changeRole = (member: MemberView, role: Role) =>
    change(
      () => requestJson(`/api/members/${member.userId}/role`, memberChangeSchema, { ...csrf, method: 'PUT', body: { role } }),
      `${member.name} is now ${humanize(role).toLowerCase()}.`,
    );
  const remove = (member: MemberView) => change(() => requestEmpty(`/api/members/${member.userId}`, { ...csrf, method: 'DELETE' }), `${member.name} was removed from ${session.organization.name}.`);
  const invite = (email: string, role: Role) =>
    change(() => requestJson('/api/members/invites', sentMemberInviteSchema, { ...csrf, method: 'POST', body: { email, role } }), `Invitation sent to ${email}.`);
  const revoke = (pending: MemberInviteView) =>
    change(() => requestEmpty(`/api/members/invites/${pending.id}`, { ...csrf, method: 'DELETE' }), `The invitation of ${pending.email} was revoked; its link no longer works.`);

  return (
    <>
      <section class="card" aria-labelledby="members-heading">
        <h2 id="members-heading">Members</h2>
        {feedback?.kind === 'failure' && <ErrorMessage failure={feedback.failure} />}
        {feedback?.kind === 'success' && (
          <p class="message message-success" role="status">
            {feedback.message}
          </p>
        )}
        {members.state.status === 'loading' && <Loading label="Loading members…" />}
        {members.state.status === 'failed' && <ErrorMessage failure={members.state.failure} />}
        {members.state.status === 'loaded' && <MembersTable members={members.state.data.members} session={session} onChangeRole={changeRole} onRemove={remove} />}
        <InviteForm actorRole={session.user.role} onInvite={invite} />
        <h3 id="pending-invites-heading">Pending invitations</h3>
        {invites.state.status === 'failed' && <ErrorMessage failure={invites.state.failure} />}
        {invites.state.status === 'loaded' && <PendingInvites invites={invites.state.data.invites} onRevoke={revoke} />}
      </section>
      <section class="card" aria-labelledby="audit-heading">
        <h2 id="audit-heading">Audit log</h2>
        <p class="hint">The newest actions in {session.organization.name}: sign-ins, connections, exports, settings and member changes.</p>
        {audit.state.status === 'failed' && <ErrorMessage failure={audit.state.failure} />}
        {audit.state.status === 'loaded' && <AuditLog events={audit.state.data.events} />}
      </section>
    </>
  );
}

interface MembersTableProps {
  members: MemberView[];
  session: SessionView;
  onChangeRole: (member: MemberView, role: Role) => Promise<boolean>;
  onRemove: (member: MemberView) => Promise<boolean>;
}

function MembersTable({ members, session, onChangeRole, onRemove }: MembersTableProps): JSX.Element {
  return (
    <TableScroller label="Members, scrollable">
      <table aria-labelledby="members-heading" class="stacked-table">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Email</th>
            <th scope="col">Role</th>
            <th scope="col">Action</th>
          </tr>
        </thead>
        <tbody>
          {members.map((member) => (
            <MemberRow key={member.userId} member={member} session={session} onChangeRole={onChangeRole} onRemove={onRemove} />
          ))}
        </tbody>
      </table>
    </TableScroller>
  );
}

function MemberRow({ member, session, onChangeRole, onRemove }: { member: MemberView } & Omit<MembersTableProps, 'members'>): JSX.Element {
  const [isConfirming, setConfirming] = useState(false);
  const isSelf = member.userId === session.user.id;
  // An admin is shown an owner's role without a control to change it, and the server rejects such a change too.
  const canManage = session.user.role === 'owner' || member.role !== 'owner';
  const choices = member.role === 'owner' ? roles : assignableRoles(session.user.role);
  const roleFieldId = `member-role-${member.userId}`;

  return (
    <tr>
      <th scope="row">
        {member.name}
        {isSelf && <span class="signal">You</span>}
      </th>
      <td data-label="Email">{member.email}</td>
      <td data-label="Role">
        {canManage ? (
          <>
            <label for={roleFieldId} class="visually-hidden">
              Role of {member.name}
            </label>
            <select id={roleFieldId} value={member.role} onChange={(event) => void onChangeRole(member, (event.currentTarget as HTMLSelectElement).value as Role)}>
              {choices.map((role) => (
                <option key={role} value={role}>
                  {humanize(role)}
                </option>
              ))}
            </select>
          </>
        ) : (
          humanize(member.role)
        )}
      </td>
      <td data-label="Action">
        {canManage && !isConfirming && (
          <button type="button" class="button-secondary" onClick={() => setConfirming(true)}>
            {isSelf ? 'Leave' : 'Remove'}
            <span class="visually-hidden"> {member.name}</span>
          </button>
        )}
        {canManage && isConfirming && (
          <span class="confirm-remove" role="group" aria-label={`Confirm removing ${member.name}`}>
            <span>{isSelf ? 'Leave this organization?' : `Remove ${member.name}? Their access ends at once.`}</span>
            <button
              type="button"
              class="button-danger"
              onClick={() => {
                setConfirming(false);
                void onRemove(member).then((isRemoved) => {
                  if (isRemoved && isSelf) window.location.assign('/');
                });
              }}
            >
              {isSelf ? 'Leave' : 'Remove'}
            </button>
            <button type="button" class="button-secondary" onClick={() => setConfirming(false)}>
              Cancel
            </button>
          </span>
        )}
      </td>
    </tr>
  );
}

function InviteForm({ actorRole, onInvite }: { actorRole: string; onInvite: (email: string, role: Role) => Promise<boolean> }): JSX.Element {
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('member');
  const [fieldError, setFieldError] = useState<string | null>(null);

  const onSubmit = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    const value = email.trim();
    if (!z.email().safeParse(value).success) {
      setFieldError(`"${value}" is not an email address. Enter one such as name@example.com.`);
      return;
    }
    setFieldError(null);
    if (await onInvite(value, role)) setEmail('');
  };

  return (
    <form class="inline-fields" noValidate aria-labelledby="invite-member-heading" onSubmit={(event) => void onSubmit(event)}>
      <h3 id="invite-member-heading" class="form-heading">
        Invite someone
      </h3>
      <div class="field">
        <label for="invite-email">Email to invite</label>
        <input
          id="invite-email"
          type="email"
          autoComplete="off"
          value={email}
          onInput={(event) => setEmail((event.currentTarget as HTMLInputElement).value)}
          aria-invalid={fieldError !== null ? 'true' : undefined}
          aria-describedby={fieldError !== null ? 'invite-email-error' : undefined}
        />
      </div>
      <div class="field">
        <label for="invite-role">Role to give</label>
        <select id="invite-role" value={role} onChange={(event) => setRole((event.currentTarget as HTMLSelectElement).value as Role)}>
          {assignableRoles(actorRole).map((choice) => (
            <option key={choice} value={choice}>
              {humanize(choice)}
            </option>
          ))}
        </select>
      </div>
      <button type="submit">Send invitation</button>
      {fieldError !== null && (
        <p class="field-error" id="invite-email-error">
          {fieldError}
        </p>
      )}
    </form>
  );
}

function PendingInvites({ invites, onRevoke }: { invites: MemberInviteView[]; onRevoke: (invite: MemberInviteView) => Promise<boolean> }): JSX.Element {
  if (invites.length === 0) return <p class="muted">No invitation is pending.</p>;
  return (
    <TableScroller label="Pending invitations, scrollable">
      <table aria-labelledby="pending-invites-heading" class="stacked-table">
        <thead>
          <tr>
            <th scope="col">Email</th>
            <th scope="col">Role</th>
            <th scope="col">Invited by</th>
            <th scope="col">Expires</th>
            <th scope="col">Action</th>
          </tr>
        </thead>
        <tbody>
          {invites.map((invite) => (
            <tr key={invite.id}>
              <th scope="row">{invite.email}</th>
              <td data-label="Role">{humanize(invite.role)}</td>
              <td data-label="Invited by">{invite.inviterName ?? 'A former member'}</td>
              <td data-label="Expires">
                <Time iso={invite.expiresAt} />
              </td>
              <td data-label="Action">
                <button type="button" class="button-secondary" onClick={() => void onRevoke(invite)}>
                  Revoke<span class="visually-hidden"> the invitation of {invite.email}</span>
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableScroller>
  );
}

function AuditLog({ events }: { events: AuditEventView[] }): JSX.Element {
  if (events.length === 0) return <p class="muted">Nothing is recorded yet.</p>;
  return (
    <TableScroller label="Audit log, scrollable">
      <table aria-labelledby="audit-heading" class="stacked-table">
        <thead>
          <tr>
            <th scope="col">When</th>
            <th scope="col">Who</th>
            <th scope="col">Action</th>
            <th scope="col">Details</th>
          </tr>
        </thead>
        <tbody>
          {events.map((event) => (
            <tr key={event.id}>
              <td data-label="When">
                <Time iso={event.createdAt} />
              </td>
              <td data-label="Who">{event.actorLabel}</td>
              <th scope="row" data-label="Action">
                {auditActionLabel(event.action)}
              </th>
              <td data-label="Details">{describeDetails(event.details)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableScroller>
  );
}

/** Lists an audit entry's details as "email: a@b.test, role: admin"; export filters are shown as sent. */
function describeDetails(details: Record<string, unknown>): string {
  return Object.entries(details)
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(', ');
}

import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { z } from 'zod';
import { requestJson, type ApiFailure } from '../api.ts';
import { inviteCreatedSchema, invitesSchema, type InviteView } from '../api-types.ts';
import { ErrorMessage, Time, useApiData } from './common.tsx';

const INVITES_PATH = '/api/apps/pagerduty/invites';
const emailSchema = z.email('Enter the email address of your PagerDuty admin, such as admin@example.com.');

const STATUS_LABELS: Record<InviteView['status'], string> = { pending: 'Waiting', used: 'Used', expired: 'Expired' };

/**
 * Renders Invite your PagerDuty admin, which sends a single-use, expiring link by mail to someone who can
 * grant the access, and lists the invites sent so far with their outcome.
 */
export function InviteAdmin({ csrfToken, onInvited }: { csrfToken: string; onInvited?: () => void }): JSX.Element {
  const [isOpen, setOpen] = useState(false);
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [sent, setSent] = useState<InviteView | null>(null);
  const [isSending, setSending] = useState(false);
  const { state: invites, reload } = useApiData(INVITES_PATH, invitesSchema);

  const onSubmit = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const email = emailSchema.safeParse(String(form.get('email') ?? '').trim());
    if (!email.success) {
      setFieldError(email.error.issues[0]?.message ?? 'Enter an email address.');
      return;
    }
    setFieldError(null);
    setFailure(null);
    setSending(true);
    const note = String(form.get('note') ?? '').trim();
    const result = await requestJson(INVITES_PATH, inviteCreatedSchema, { method: 'POST', csrfToken, body: note === '' ? { email: email.data } : { email: email.data, note } });
    setSending(false);
    if (!result.ok) {
      setFailure(result.error);
      return;
    }
    setSent(result.value.invite);
    setOpen(false);
    await reload();
    onInvited?.();
  };

  const inviteList = invites.status === 'loaded' ? invites.data.invites : [];

  return (
    <div class="invite-admin">
      {sent !== null && (
        <div class="message message-success" role="status">
          <p>
            Invite sent to {sent.email}. The link works once and expires <Time iso={sent.expiresAt} />. You will see here when it was used.
          </p>
        </div>
      )}
      {!isOpen ? (
        <button type="button" class="button-secondary" onClick={() => setOpen(true)}>
          Invite your PagerDuty admin
        </button>
      ) : (
        <form class="stacked-form invite-form" noValidate onSubmit={(event) => void onSubmit(event)} aria-labelledby="invite-heading">
          <h3 id="invite-heading">Invite your PagerDuty admin</h3>
          <p class="hint">Seatwise mails a link that works once. Your admin sees exactly what read-only access is asked for before connecting.</p>
          <div class="field">
            <label for="invite-email">Admin's email</label>
            <input
              id="invite-email"
              name="email"
              type="email"
              autoComplete="off"
              required
              aria-invalid={fieldError !== null ? 'true' : undefined}
              aria-describedby={fieldError !== null ? 'invite-email-error' : undefined}
            />
            {fieldError !== null && (
              <p class="field-error" id="invite-email-error">
                {fieldError}
              </p>
            )}
          </div>
          <div class="field">
            <label for="invite-note">Note (optional)</label>
            <textarea id="invite-note" name="note" rows={3} maxLength={1000} />
          </div>
          {failure !== null && <ErrorMessage failure={failure} />}
          <div class="actions">
            <button type="submit" disabled={isSending}>
              {isSending ? 'Sending…' : 'Send invite'}
            </button>
            <button type="button" class="button-secondary" onClick={() => setOpen(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {inviteList.length > 0 && (
        <ul class="invite-list" aria-label="Invites sent">
          {inviteList.map((invite) => (
            <li key={invite.id}>
              {invite.email} · {STATUS_LABELS[invite.status]}
              {invite.status === 'pending' && (
                <>
                  , expires <Time iso={invite.expiresAt} />
                </>
              )}
              {invite.outcomeMessage !== null && <span class="signal">{invite.outcomeMessage}</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

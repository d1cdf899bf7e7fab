import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { requestJson, type ApiFailure } from '../api.ts';
import { syncStartedSchema, type ConnectionCardView, type NextSync, type StreamProgress } from '../api-types.ts';
import { pagerDutyRoleLabel } from '../../../src/exports/labels.ts';
import { formatCount, formatRelative, humanize, labelOf } from '../format.ts';
import { ErrorMessage, SupportLine, TextWithTimes, Time } from './common.tsx';
import { ApiKeyConnect } from './api-key-connect.tsx';
import { ConnectionStateBadge } from './connection-state.tsx';
import { DisconnectButton } from './disconnect.tsx';
import { InviteAdmin } from './invite-admin.tsx';
import { SyncHistory } from './sync-history.tsx';

/** How often the card re-reads the server while a sync runs. */
export const SYNC_POLL_INTERVAL_MS = 1_500;

const CONNECT_ACTION = '/apps/pagerduty/connect';

const REGION_LABELS: Record<'us' | 'eu', string> = {
  us: 'United States (api.pagerduty.com)',
  eu: 'European Union (api.eu.pagerduty.com)',
};

interface ConnectionsCardProps {
  card: ConnectionCardView;
  csrfToken: string;
  /** Re-reads the card, e.g. after Sync now. */
  onChanged: () => Promise<void>;
}

/**
 * Renders the state of the PagerDuty connection and the one action that helps. Connect and Reconnect
 * are plain HTML form posts because the server responds with a redirect to PagerDuty.
 */
export function ConnectionsCard({ card, csrfToken, onChanged }: ConnectionsCardProps): JSX.Element {
  const isRunActive = card.state === 'syncing' || (card.currentRun !== null && isActiveRunStatus(card.currentRun.status));
  usePolling(isRunActive, onChanged);
  const [disconnectInstructions, setDisconnectInstructions] = useState<string | null>(null);
  const onDisconnected = (instructions: string): void => {
    setDisconnectInstructions(instructions);
    void onChanged();
  };

  return (
    <section class="card connections-card" aria-labelledby="connections-heading">
      <div class="card-header">
        <h2 id="connections-heading">Connections</h2>
        <ConnectionStateBadge state={card.state} />
      </div>
      {card.notice !== null && <Notice notice={card.notice} supportEmail={card.supportEmail} />}
      {card.accountSwitch !== null && <AccountSwitch currentSubdomain={card.accountSwitch.currentSubdomain} csrfToken={csrfToken} />}
      {disconnectInstructions !== null && (
        <div class="message message-success" role="status">
          <p>PagerDuty is disconnected. {disconnectInstructions}</p>
        </div>
      )}
      <CardBody card={card} csrfToken={csrfToken} onChanged={onChanged} onDisconnected={onDisconnected} />
      {/* Outside the state's body, so its outcome stays on screen when the connect changes the state. */}
      {card.canConnect && <ApiKeyConnect csrfToken={csrfToken} onChanged={onChanged} />}
      {card.currentRun !== null && <RunProgress run={card.currentRun} />}
      <SyncHistory runs={card.recentRuns} />
    </section>
  );
}

function CardBody({ card, csrfToken, onChanged, onDisconnected }: ConnectionsCardProps & { onDisconnected: (instructions: string) => void }): JSX.Element {
  switch (card.state) {
    // Nothing connected yet: explain what access Connect requests and who may click it.
    case 'not_connected':
      return (
        <div class="card-body">
          <p>
            Seatwise is not connected to PagerDuty. Connect with a PagerDuty account that is an owner or admin, so Seatwise can read users,
            licenses and activity. Seatwise asks for read-only access and never changes anything in PagerDuty.
          </p>
          {card.keptAccount !== null && <KeptAccount keptAccount={card.keptAccount} lastSyncAt={card.lastSyncAt} />}
          {card.canConnect ? <ConnectForm label="Connect" csrfToken={csrfToken} /> : <AdminOnlyNote />}
          <p class="hint invite-hint">Not a PagerDuty admin yourself? Invite one to connect.</p>
          <InviteAdmin csrfToken={csrfToken} />
        </div>
      );
    // Connected and idle: the account, then Sync now and Reconnect. A status reason here means
    // the token reads less than an admin's would (limited visibility).
    case 'connected':
      return (
        <div class="card-body">
          {card.statusReason !== null && <LimitedVisibility reason={card.statusReason} csrfToken={csrfToken} />}
          <AccountDetails card={card} />
          {card.canConnect ? (
            <div class="actions">
              <SyncNowButton csrfToken={csrfToken} onChanged={onChanged} />
              <ConnectForm label="Reconnect" csrfToken={csrfToken} isSecondary />
              <DisconnectButton csrfToken={csrfToken} onDisconnected={onDisconnected} />
            </div>
          ) : (
            <AdminOnlyNote />
          )}
        </div>
      );
    // A run is in progress: the account and Reconnect stay available, progress follows below.
    case 'syncing':
      return (
        <div class="card-body">
          <p>Seatwise is reading data from PagerDuty. The progress below updates by itself.</p>
          <AccountDetails card={card} />
          {card.canConnect && (
            <div class="actions">
              <ConnectForm label="Reconnect" csrfToken={csrfToken} isSecondary />
            </div>
          )}
        </div>
      );
    // Access was lost: show why and since when. Reconnect keeps history.
    case 'needs_reconnect':
      return (
        <div class="card-body">
          <div class="message message-warning">
            <p>
              <strong>Seatwise can no longer read PagerDuty</strong>
              {card.statusChangedAt !== null && (
                <>
                  {' '}
                  since <Time iso={card.statusChangedAt} />
                </>
              )}
              .
            </p>
            {card.statusReason !== null && <p>{card.statusReason}</p>}
            <p>All synced history is kept when you reconnect.</p>
          </div>
          {card.account !== null && <AccountDetails card={card} />}
          {card.canConnect ? <ConnectForm label="Reconnect" csrfToken={csrfToken} /> : <AdminOnlyNote />}
        </div>
      );
    // Something failed that the viewer probably cannot fix alone: what, since when, and support.
    case 'error':
      return (
        <div class="card-body">
          <div class="message message-error">
            <p>
              <strong>The PagerDuty connection failed</strong>
              {card.statusChangedAt !== null && (
                <>
                  {' '}
                  on <Time iso={card.statusChangedAt} />
                </>
              )}
              .
            </p>
            <p>{card.statusReason ?? 'Seatwise did not record a reason.'}</p>
            <p>Synced history is kept. If reconnecting does not help, contact support with the time shown above.</p>
            <SupportLine supportEmail={card.supportEmail} />
          </div>
          {card.account !== null && <AccountDetails card={card} />}
          {card.canConnect && <ConnectForm label="Reconnect" csrfToken={csrfToken} isSecondary />}
        </div>
      );
    default: {
      const unreachable: never = card.state;
      throw new Error(`Unhandled connection state ${String(unreachable)}`);
    }
  }
}

/** Names the disconnected account whose synced data was kept, because the dashboard still shows its figures. */
function KeptAccount({ keptAccount, lastSyncAt }: { keptAccount: NonNullable<ConnectionCardView['keptAccount']>; lastSyncAt: string | null }): JSX.Element {
  const account = keptAccount.subdomain === null ? 'The disconnected PagerDuty account' : `${keptAccount.subdomain}.pagerduty.com`;
  return (
    <p class="kept-account">
      {account} was disconnected on <Time iso={keptAccount.disconnectedAt} /> and its synced data is kept.{' '}
      {lastSyncAt === null ? (
        'It was never synced.'
      ) : (
        <>
          Its last sync was on <Time iso={lastSyncAt} />, and the dashboard shows the figures from then until you connect again.
        </>
      )}
    </p>
  );
}

function Notice({ notice, supportEmail }: { notice: NonNullable<ConnectionCardView['notice']>; supportEmail: string }): JSX.Element {
  if (notice.kind === 'success') {
    return (
      <div class="message message-success" role="status">
        <p>{notice.message}</p>
      </div>
    );
  }
  return (
    <div class="message message-error" role="alert">
      <p>{notice.message}</p>
      <SupportLine supportEmail={supportEmail} />
    </div>
  );
}

/**
 * Posts to the connect route, which redirects to PagerDuty. While the browser leaves for
 * PagerDuty the button says so (the connecting state) and ignores a second click.
 */
function ConnectForm({ label, csrfToken, isSecondary = false }: { label: 'Connect' | 'Reconnect'; csrfToken: string; isSecondary?: boolean }): JSX.Element {
  const [isConnecting, setConnecting] = useState(false);
  const onSubmit = (event: SubmitEvent): void => {
    if (isConnecting) event.preventDefault();
    else setConnecting(true);
  };
  return (
    <form method="post" action={CONNECT_ACTION} class="inline-form" onSubmit={onSubmit}>
      <input type="hidden" name="_csrf" value={csrfToken} />
      <button type="submit" class={isSecondary ? 'button-secondary' : undefined} aria-disabled={isConnecting ? 'true' : undefined}>
        {label}
      </button>
      {isConnecting && (
        <span class="connecting" role="status">
          Opening PagerDuty…
        </span>
      )}
    </form>
  );
}

/**
 * Offers to replace the connected PagerDuty account with the other one the user signed in to.
 * The user confirms first, because the connected account's data is then archived. The switch
 * repeats the authorization with the confirmation.
 */
function AccountSwitch({ currentSubdomain, csrfToken }: { currentSubdomain: string; csrfToken: string }): JSX.Element {
  const [isConfirmed, setConfirmed] = useState(false);
  const [isSwitching, setSwitching] = useState(false);
  const onSubmit = (event: SubmitEvent): void => {
    if (!isConfirmed || isSwitching) event.preventDefault();
    else setSwitching(true);
  };
  return (
    <form method="post" action={CONNECT_ACTION} class="message message-warning account-switch" aria-labelledby="account-switch-heading" onSubmit={onSubmit}>
      <h3 id="account-switch-heading">Switch to the other PagerDuty account?</h3>
      <p>
        The PagerDuty account you signed in to is not <strong>{currentSubdomain}</strong>, the account whose data Seatwise contains. Seatwise
        shows one account per organization. Switching archives the connection to {currentSubdomain} and its synced data, which Seatwise keeps
        but no longer shows, and connects the other account after you sign in to it at PagerDuty again.
      </p>
      <input type="hidden" name="_csrf" value={csrfToken} />
      <div class="checkbox-field">
        <input
          id="account-switch-confirm"
          type="checkbox"
          name="confirmAccountSwitch"
          value="confirmed"
          required
          checked={isConfirmed}
          onChange={(event) => setConfirmed((event.currentTarget as HTMLInputElement).checked)}
        />
        <label for="account-switch-confirm">
          I understand that the data of the two accounts must not mix: archive the data of {currentSubdomain} and show only the other account’s.
        </label>
      </div>
      <button type="submit" aria-disabled={!isConfirmed || isSwitching ? 'true' : undefined}>
        Switch account
      </button>
      {isSwitching && (
        <span class="connecting" role="status">
          Opening PagerDuty…
        </span>
      )}
    </form>
  );
}

function LimitedVisibility({ reason, csrfToken }: { reason: string; csrfToken: string }): JSX.Element {
  return (
    <div class="message message-warning">
      <p>
        <strong>Limited visibility.</strong> {reason}
      </p>
      <p>If you are not a PagerDuty admin yourself, invite one to reconnect.</p>
      <InviteAdmin csrfToken={csrfToken} />
    </div>
  );
}

function AdminOnlyNote(): JSX.Element {
  return <p class="hint">Only an owner or admin of your Seatwise organization can connect or reconnect PagerDuty. Ask one of them to do it.</p>;
}

function AccountDetails({ card }: { card: ConnectionCardView }): JSX.Element | null {
  const account = card.account;
  if (account === null) return null;
  return (
    <dl class="details" aria-label="Connected PagerDuty account">
      <dt>Account</dt>
      <dd>{`${account.subdomain}.pagerduty.com`}</dd>
      <dt>Region</dt>
      <dd>{REGION_LABELS[account.region]}</dd>
      <dt>Connected by</dt>
      <dd>
        {account.connectedBy.role === 'api_key'
          ? 'An account REST API key, which belongs to no PagerDuty user'
          : `${account.connectedBy.name} (${account.connectedBy.email}), PagerDuty role: ${pagerDutyRoleLabel(account.connectedBy.role)}`}
      </dd>
      <dt>Granted scope</dt>
      <dd>
        <code>{account.grantedScope}</code>
      </dd>
      <dt>Connected</dt>
      <dd>
        <Time iso={account.connectedAt} />
      </dd>
      <dt>Last successful sync</dt>
      <dd>
        {card.lastSyncAt === null ? (
          'Not yet'
        ) : (
          <Time iso={card.lastSyncAt}>{formatRelative(card.lastSyncAt)}</Time>
        )}
      </dd>
      {card.nextSync !== null && (
        <>
          <dt>Next sync</dt>
          <dd>
            <NextSyncText nextSync={card.nextSync} />
          </dd>
        </>
      )}
    </dl>
  );
}

const SCHEDULED_KIND_LABELS: Record<NextSync['scheduled']['kind'], string> = {
  incremental: 'an incremental sync of what changed since the last one',
  full: 'a full roster sync that reads every list again',
};

/** Names the queued sync, or the time and kind of the next scheduled one. */
function NextSyncText({ nextSync }: { nextSync: NextSync }): JSX.Element {
  if (nextSync.isQueued) return <>A sync is queued and starts as soon as a sync worker is free.</>;
  const { at, kind } = nextSync.scheduled;
  return (
    <>
      <Time iso={at} /> ({formatRelative(at)}), {SCHEDULED_KIND_LABELS[kind]}
    </>
  );
}

function SyncNowButton({ csrfToken, onChanged }: { csrfToken: string; onChanged: () => Promise<void> }): JSX.Element {
  const [isStarting, setStarting] = useState(false);
  const [failure, setFailure] = useState<ApiFailure | null>(null);

  const startSync = async (): Promise<void> => {
    setStarting(true);
    setFailure(null);
    const result = await requestJson('/api/apps/pagerduty/sync', syncStartedSchema, { method: 'POST', csrfToken });
    if (!result.ok) setFailure(result.error);
    await onChanged();
    setStarting(false);
  };

  return (
    <>
      <button type="button" disabled={isStarting} onClick={() => void startSync()}>
        {isStarting ? 'Starting sync…' : 'Sync now'}
      </button>
      {failure !== null && <ErrorMessage failure={failure} />}
    </>
  );
}

function RunProgress({ run }: { run: NonNullable<ConnectionCardView['currentRun']> }): JSX.Element {
  return (
    <section class="run-progress" aria-labelledby="run-progress-heading">
      <h3 id="run-progress-heading">
        Sync {humanize(run.status).toLowerCase()}
        {run.startedAt !== null && (
          <>
            , started <Time iso={run.startedAt} />
          </>
        )}
      </h3>
      <ul class="stream-list">
        {run.streams.map((stream) => (
          <StreamRow key={stream.stream} stream={stream} />
        ))}
      </ul>
    </section>
  );
}

function StreamRow({ stream }: { stream: StreamProgress }): JSX.Element {
  const id = `stream-${stream.stream}`;
  const recordsText =
    stream.expectedRecords === null
      ? `${formatCount(stream.records)} records`
      : `${formatCount(stream.records)} of ${formatCount(stream.expectedRecords)} records`;

  return (
    <li class="stream-row">
      <div class="stream-label">
        <span id={`${id}-label`}>{labelOf(stream.stream)}</span>
        <span class="stream-status">
          {humanize(stream.status)} · {recordsText} · {formatCount(stream.pages)} {stream.pages === 1 ? 'page' : 'pages'}
        </span>
      </div>
      <progress aria-labelledby={`${id}-label`} {...progressValues(stream)} />
      {stream.message !== null && (
        <p class="stream-message">
          <TextWithTimes text={stream.message} />
        </p>
      )}
    </li>
  );
}

const FINISHED_STREAM_STATUSES = new Set(['succeeded', 'failed', 'unavailable']);

/**
 * Returns the bar's `max` and `value`. A running stream without an expected total gets an
 * indeterminate bar (no value): it shows activity, not a share. A finished stream is full when it
 * succeeded and shows what it reached otherwise.
 */
function progressValues(stream: StreamProgress): { max?: number; value?: number } {
  const isFinished = FINISHED_STREAM_STATUSES.has(stream.status);
  if (stream.expectedRecords === null && !isFinished) return {};

  const max = Math.max(stream.expectedRecords ?? stream.records, 1);
  if (stream.status === 'succeeded') return { max, value: max };
  return { max, value: Math.min(stream.records, max) };
}

const ACTIVE_RUN_STATUSES = new Set(['queued', 'running']);

function isActiveRunStatus(status: string): boolean {
  return ACTIVE_RUN_STATUSES.has(status);
}

/** Re-reads the card every SYNC_POLL_INTERVAL_MS while `isActive`, one request at a time. */
function usePolling(isActive: boolean, reload: () => Promise<void>): void {
  useEffect(() => {
    if (!isActive) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let isStopped = false;
    const tick = async (): Promise<void> => {
      await reload();
      if (!isStopped) timer = setTimeout(() => void tick(), SYNC_POLL_INTERVAL_MS);
    };
    timer = setTimeout(() => void tick(), SYNC_POLL_INTERVAL_MS);
    return () => {
      isStopped = true;
      clearTimeout(timer);
    };
  }, [isActive, reload]);
}

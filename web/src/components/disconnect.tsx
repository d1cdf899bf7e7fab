import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { requestJson, type ApiFailure } from '../api.ts';
import { disconnectedSchema } from '../api-types.ts';
import { ErrorMessage } from './common.tsx';

/**
 * Renders Disconnect with a confirmation step: Seatwise deletes its PagerDuty tokens and, unless the
 * admin keeps it, the synced data. `onDisconnected` receives the server's sentence on how to
 * remove the grant in PagerDuty too.
 */
export function DisconnectButton({ csrfToken, onDisconnected }: { csrfToken: string; onDisconnected: (instructions: string) => void }): JSX.Element {
  const [isConfirming, setConfirming] = useState(false);
  const [keepData, setKeepData] = useState(true);
  const [isSending, setSending] = useState(false);
  const [failure, setFailure] = useState<ApiFailure | null>(null);

  const disconnect = async (): Promise<void> => {
    setSending(true);
    setFailure(null);
    const result = await requestJson(`/api/apps/pagerduty/connection?keepData=${keepData ? 'true' : 'false'}`, disconnectedSchema, { method: 'DELETE', csrfToken });
    setSending(false);
    if (!result.ok) {
      setFailure(result.error);
      return;
    }
    setConfirming(false);
    onDisconnected(result.value.instructions);
  };

  if (!isConfirming) {
    return (
      <button type="button" class="button-danger" onClick={() => setConfirming(true)}>
        Disconnect
      </button>
    );
  }

  return (
    <div class="confirm-panel" role="group" aria-labelledby="disconnect-heading">
      <h3 id="disconnect-heading">Disconnect PagerDuty?</h3>
      <p>Seatwise deletes its PagerDuty tokens and stops syncing. You can connect again at any time.</p>
      <div class="checkbox-field">
        <input id="disconnect-keep-data" type="checkbox" checked={keepData} onChange={(event) => setKeepData((event.currentTarget as HTMLInputElement).checked)} />
        <label for="disconnect-keep-data">Keep the synced data, so a later reconnect continues the history</label>
      </div>
      {failure !== null && <ErrorMessage failure={failure} />}
      <div class="actions">
        <button type="button" class="button-danger" disabled={isSending} onClick={() => void disconnect()}>
          {isSending ? 'Disconnecting…' : 'Disconnect PagerDuty'}
        </button>
        <button type="button" class="button-secondary" onClick={() => setConfirming(false)}>
          Cancel
        </button>
      </div>
    </div>
  );
}

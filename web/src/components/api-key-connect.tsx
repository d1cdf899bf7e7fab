import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { z } from 'zod';
import { requestJson, type ApiFailure } from '../api.ts';
import { ErrorMessage } from './common.tsx';

const apiKeyConnectedSchema = z.object({ connectionId: z.string(), isAccountSwitched: z.boolean() });

/**
 * Connects with an account REST API key in place of OAuth. When the key belongs to another
 * account than the connected one, the server rejects it. The form then requests the user's
 * confirmation that the two accounts' data must not mix, and sends the key again with it.
 */
export function ApiKeyConnect({ csrfToken, onChanged }: { csrfToken: string; onChanged: () => Promise<void> }): JSX.Element {
  const [apiKey, setApiKey] = useState('');
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [mismatchMessage, setMismatchMessage] = useState<string | null>(null);
  const [isConfirmed, setConfirmed] = useState(false);
  const [successMessage, setSuccessMessage] = useState<string | null>(null);
  const [isBusy, setBusy] = useState(false);

  const send = async (isSwitchConfirmed: boolean): Promise<void> => {
    setBusy(true);
    setFailure(null);
    setSuccessMessage(null);
    const body = isSwitchConfirmed ? { apiKey: apiKey.trim(), confirmAccountSwitch: true } : { apiKey: apiKey.trim() };
    const result = await requestJson('/api/apps/pagerduty/api-key', apiKeyConnectedSchema, { method: 'POST', csrfToken, body });
    setBusy(false);
    if (!result.ok) {
      if (result.error.code === 'account_mismatch') setMismatchMessage(result.error.message);
      else setFailure(result.error);
      return;
    }
    setApiKey('');
    setMismatchMessage(null);
    setConfirmed(false);
    setSuccessMessage(
      result.value.isAccountSwitched
        ? 'Seatwise switched to the account of this API key. The previous account’s data is archived and no longer shown. The first sync has started.'
        : 'PagerDuty is connected with the API key. The first sync has started.',
    );
    await onChanged();
  };

  const onSubmit = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    if (apiKey.trim() === '') {
      setFailure({ status: 0, code: 'invalid_request', message: 'Paste a PagerDuty account REST API key, then click Connect with API key.' });
      return;
    }
    await send(false);
  };

  return (
    <details class="api-key-connect">
      <summary>Connect with an API key instead</summary>
      <form class="inline-fields" noValidate onSubmit={(event) => void onSubmit(event)}>
        <div class="field">
          <label for="pagerduty-api-key">PagerDuty API key</label>
          <input
            id="pagerduty-api-key"
            type="password"
            autoComplete="off"
            spellcheck={false}
            value={apiKey}
            onInput={(event) => {
              setApiKey((event.currentTarget as HTMLInputElement).value);
              setMismatchMessage(null);
            }}
          />
        </div>
        <button type="submit" disabled={isBusy}>
          Connect with API key
        </button>
      </form>
      {failure !== null && <ErrorMessage failure={failure} />}
      {successMessage !== null && (
        <p class="message message-success" role="status">
          {successMessage}
        </p>
      )}
      {mismatchMessage !== null && (
        <div class="message message-warning account-switch" role="alert">
          <p>{mismatchMessage}</p>
          <div class="checkbox-field">
            <input id="api-key-switch-confirm" type="checkbox" checked={isConfirmed} onChange={(event) => setConfirmed((event.currentTarget as HTMLInputElement).checked)} />
            <label for="api-key-switch-confirm">I understand that the data of the two accounts must not mix: archive the connected account’s data and show only this key’s account.</label>
          </div>
          <button type="button" disabled={!isConfirmed || isBusy} onClick={() => void send(true)}>
            Switch account
          </button>
        </div>
      )}
    </details>
  );
}

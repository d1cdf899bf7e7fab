import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import { requestJson, type ApiFailure } from '../api.ts';
import { sessionSchema, type SessionView } from '../api-types.ts';
import { humanize } from '../format.ts';
import { ErrorMessage } from './common.tsx';

/**
 * Names the active organization and, when opened, lists the user's other organizations to switch
 * to and a form to create a new one. A switch reloads the app, so no page keeps data of the
 * organization it left.
 */
export function OrganizationMenu({ session }: { session: SessionView }): JSX.Element {
  const [isOpen, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [failure, setFailure] = useState<ApiFailure | null>(null);
  const [isBusy, setBusy] = useState(false);
  const others = session.organizations.filter((organization) => organization.id !== session.organization.id);

  const enter = async (path: string, method: 'PUT' | 'POST', body: unknown): Promise<void> => {
    setBusy(true);
    setFailure(null);
    const result = await requestJson(path, sessionSchema, { method, csrfToken: session.csrfToken, body });
    setBusy(false);
    if (!result.ok) {
      setFailure(result.error);
      return;
    }
    window.location.assign('/catalog');
  };

  const onCreate = async (event: SubmitEvent): Promise<void> => {
    event.preventDefault();
    if (name.trim() === '') {
      setFailure({ status: 0, code: 'invalid_request', message: 'Enter a name for the new organization, then click Create.' });
      return;
    }
    await enter('/api/organizations', 'POST', { name: name.trim() });
  };

  return (
    <div class="organization-menu">
      <button type="button" class="organization-button" aria-expanded={isOpen ? 'true' : 'false'} aria-controls="organization-menu-panel" onClick={() => setOpen(!isOpen)}>
        <span class="visually-hidden">Organization: </span>
        {session.organization.name}
        <span aria-hidden="true"> ▾</span>
      </button>
      {isOpen && (
        <div id="organization-menu-panel" class="organization-panel">
          {others.length > 0 && (
            <>
              <h2 class="organization-panel-heading" id="organization-switch-heading">
                Switch organization
              </h2>
              <ul class="organization-list" aria-labelledby="organization-switch-heading">
                {others.map((organization) => (
                  <li key={organization.id}>
                    <button type="button" class="button-secondary" disabled={isBusy} onClick={() => void enter('/api/session/organization', 'PUT', { organizationId: organization.id })}>
                      {organization.name}
                      <span class="signal">{humanize(organization.role)}</span>
                    </button>
                  </li>
                ))}
              </ul>
            </>
          )}
          <form class="stacked-form" noValidate onSubmit={(event) => void onCreate(event)}>
            <div class="field">
              <label for="new-organization-name">New organization</label>
              <input id="new-organization-name" name="name" maxLength={200} autoComplete="organization" value={name} onInput={(event) => setName((event.currentTarget as HTMLInputElement).value)} />
            </div>
            <button type="submit" disabled={isBusy}>
              Create organization
            </button>
          </form>
          {failure !== null && <ErrorMessage failure={failure} />}
        </div>
      )}
    </div>
  );
}

import type { JSX } from 'preact';
import type { PageProps } from '../app.tsx';
import { appsSchema, type AppSummary } from '../api-types.ts';
import { ErrorMessage, Loading, useApiData, usePageTitle } from '../components/common.tsx';
import { ConnectionStateBadge } from '../components/connection-state.tsx';
import { Link } from '../router.tsx';
import { useSessionGuard } from '../session-guard.ts';

/** Lists the apps Seatwise can connect, each with its connection state. */
export function CatalogPage({ session, onSessionExpired }: PageProps): JSX.Element {
  usePageTitle('Catalog');
  const { state } = useApiData('/api/apps', appsSchema);
  useSessionGuard(state, onSessionExpired);

  return (
    <section aria-labelledby="catalog-heading">
      <h1 id="catalog-heading">Catalog</h1>
      <p class="lead">Connect an app to see how many of its paid seats and features are really used.</p>
      {state.status === 'loading' && <Loading label="Loading apps…" />}
      {state.status === 'failed' && <ErrorMessage failure={state.failure} supportEmail={session.supportEmail} />}
      {state.status === 'loaded' && (
        <ul class="app-list" aria-label="Apps">
          {state.data.apps.map((app) => (
            <li key={app.key} class="card app-card">
              <AppEntry app={app} />
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function AppEntry({ app }: { app: AppSummary }): JSX.Element {
  return (
    <>
      <div class="app-card-header">
        <h2>
          <Link href={`/apps/${encodeURIComponent(app.key)}`}>{app.name}</Link>
        </h2>
        <ConnectionStateBadge state={app.connectionState} />
      </div>
      <p>{app.description}</p>
    </>
  );
}

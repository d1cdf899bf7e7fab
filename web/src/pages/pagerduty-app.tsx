import type { JSX } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { PageProps } from '../app.tsx';
import { connectionCardSchema } from '../api-types.ts';
import { ErrorMessage, Loading, useApiData, usePageTitle } from '../components/common.tsx';
import { ConnectionsCard } from '../components/connections-card.tsx';
import { Link } from '../router.tsx';
import { useSessionGuard } from '../session-guard.ts';

const CARD_PATH = '/api/apps/pagerduty/card';

/**
 * Renders the PagerDuty app page. After the OAuth redirect the URL carries `?result=<code>`,
 * which the page passes to the card route to get the notice sentence. The page then removes it
 * from the address bar, so a reload does not repeat the notice.
 */
export function PagerDutyAppPage({ session, location, onSessionExpired }: PageProps): JSX.Element {
  usePageTitle('PagerDuty');
  const [resultCode] = useState(() => location.query.get('result'));
  const cardPath = resultCode === null ? CARD_PATH : `${CARD_PATH}?result=${encodeURIComponent(resultCode)}`;
  const { state, reload } = useApiData(cardPath, connectionCardSchema);
  useSessionGuard(state, onSessionExpired);

  useEffect(() => {
    if (resultCode !== null) window.history.replaceState(null, '', '/apps/pagerduty');
  }, [resultCode]);

  return (
    <section aria-labelledby="pagerduty-heading">
      <p class="breadcrumb">
        <Link href="/catalog">Catalog</Link> / PagerDuty
      </p>
      <h1 id="pagerduty-heading">PagerDuty</h1>
      <p class="lead">Incident response and on-call. Seatwise reads users, licenses and incident activity to show which seats are used.</p>
      {state.status === 'loading' && <Loading label="Loading the connection…" />}
      {state.status === 'failed' && <ErrorMessage failure={state.failure} supportEmail={session.supportEmail} />}
      {state.status === 'loaded' && <ConnectionsCard card={state.data} csrfToken={session.csrfToken} onChanged={reload} />}
    </section>
  );
}

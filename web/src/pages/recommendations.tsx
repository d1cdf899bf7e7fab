import type { JSX } from 'preact';
import { useState } from 'preact/hooks';
import type { PageProps } from '../app.tsx';
import { requestDownload, requestJson, type ApiFailure } from '../api.ts';
import { recommendationKinds, recommendationsSchema, settingsSchema, type RecommendationKind, type RecommendationRowView, type RecommendationsView } from '../api-types.ts';
import { ErrorMessage, Loading, TableScroller, Time, useApiData, usePageTitle } from '../components/common.tsx';
import { GuardrailList } from '../components/guardrails.tsx';
import { RECOMMENDATION_KIND_LABELS, recommendationStatusLabel } from '../components/recommendation-labels.ts';
import { formatCalendarDate, formatCount, formatMoney } from '../format.ts';
import { Link } from '../router.tsx';
import { useSessionGuard } from '../session-guard.ts';

/** Renders the recommendations grouped by kind, with savings, effective dates and guardrails. */
export function RecommendationsPage({ session, onSessionExpired }: PageProps): JSX.Element {
  usePageTitle('Recommendations');
  const { state, reload } = useApiData('/api/recommendations', recommendationsSchema);
  useSessionGuard(state, onSessionExpired);
  const [exemptFailure, setExemptFailure] = useState<ApiFailure | null>(null);
  const [exemptedMessage, setExemptedMessage] = useState<string | null>(null);
  const canExempt = session.user.role === 'owner' || session.user.role === 'admin';

  const exempt = async (row: RecommendationRowView): Promise<void> => {
    setExemptFailure(null);
    setExemptedMessage(null);
    const body = { email: row.email, reason: 'Exempted from the recommendations page' };
    const result = await requestJson('/api/settings/exemptions', settingsSchema, { method: 'POST', csrfToken: session.csrfToken, body });
    if (!result.ok) {
      setExemptFailure(result.error);
      return;
    }
    setExemptedMessage(`${row.name} is exempt. Seatwise leaves them out of recommendations from the next crunch on.`);
    await reload();
  };

  return (
    <section aria-labelledby="recommendations-heading">
      <h1 id="recommendations-heading">Recommendations</h1>
      <p class="lead">Seat changes that lower the PagerDuty bill. Guardrails block a change that would leave an escalation policy or schedule without people.</p>
      {state.status === 'loading' && <Loading label="Loading recommendations…" />}
      {state.status === 'failed' && <ErrorMessage failure={state.failure} supportEmail={session.supportEmail} />}
      {exemptFailure !== null && <ErrorMessage failure={exemptFailure} supportEmail={session.supportEmail} />}
      {exemptedMessage !== null && (
        <p class="message message-success" role="status">
          {exemptedMessage}
        </p>
      )}
      {state.status === 'loaded' && <RecommendationsContent view={state.data} onExempt={canExempt ? exempt : null} />}
    </section>
  );
}

type ExemptAction = ((row: RecommendationRowView) => Promise<void>) | null;

function RecommendationsContent({ view, onExempt }: { view: RecommendationsView; onExempt: ExemptAction }): JSX.Element {
  return (
    <>
      {view.licensesUnreadable && (
        <div class="card" role="note" aria-labelledby="seats-by-role-heading">
          <h2 id="seats-by-role-heading">Seats taken from roles</h2>
          <p>
            PagerDuty did not allow reading licenses, so each recommendation changes the seat that the person's PagerDuty
            role needs, and each is marked Check first: confirm the person's license in PagerDuty before you act. To use
            the licenses themselves, reconnect as a PagerDuty Global Admin or Account Owner on the PagerDuty app page.
          </p>
        </div>
      )}
      <RecommendationList view={view} onExempt={onExempt} />
    </>
  );
}

function RecommendationList({ view, onExempt }: { view: RecommendationsView; onExempt: ExemptAction }): JSX.Element {
  if (view.rows.length === 0) {
    return (
      <div class="card empty-state">
        <h2>No recommendations</h2>
        <p>
          {view.computedAt === null
            ? 'Seatwise makes recommendations once PagerDuty is connected and a sync has finished.'
            : 'Every seat is in use by the current rules. Seatwise checks again after each sync.'}
        </p>
      </div>
    );
  }

  return (
    <>
      {view.computedAt !== null && (
        <p class="freshness">
          Computed <Time iso={view.computedAt} />.
        </p>
      )}
      <ul class="tiles" aria-label="Totals">
        <li class="tile">
          <span class="tile-label">Potential yearly savings</span>
          <span class="tile-value">{view.currency === null ? 'No prices' : formatMoney(view.totals.yearlySavingMinor, view.currency)}</span>
          {view.currency === null && <span class="tile-detail">Enter contract prices to see amounts.</span>}
        </li>
        <li class="tile">
          <span class="tile-label">Ready</span>
          <span class="tile-value">{formatCount(view.totals.ready)}</span>
        </li>
        <li class="tile">
          <span class="tile-label">Check first</span>
          <span class="tile-value">{formatCount(view.totals.flagged)}</span>
        </li>
        <li class="tile">
          <span class="tile-label">Blocked by a guardrail</span>
          <span class="tile-value">{formatCount(view.totals.blocked)}</span>
        </li>
      </ul>
      <ExportButton count={view.rows.length} />
      {recommendationKinds.map((kind) => (
        <RecommendationGroup key={kind} kind={kind} rows={view.rows.filter((row) => row.kind === kind)} currency={view.currency} onExempt={onExempt} />
      ))}
    </>
  );
}

interface RecommendationGroupProps {
  kind: RecommendationKind;
  rows: RecommendationRowView[];
  currency: string | null;
  /** Adds the person to the exempt list; null when the viewer may not change settings. */
  onExempt: ExemptAction;
}

function RecommendationGroup({ kind, rows, currency, onExempt }: RecommendationGroupProps): JSX.Element | null {
  if (rows.length === 0) return null;
  const headingId = `recommendations-${kind}`;
  return (
    <section class="card" aria-labelledby={headingId}>
      <h2 id={headingId}>
        {RECOMMENDATION_KIND_LABELS[kind].title} ({formatCount(rows.length)})
      </h2>
      <TableScroller label={`${RECOMMENDATION_KIND_LABELS[kind].title}, scrollable`}>
        <table aria-labelledby={headingId} class="wide-table stacked-table">
          <thead>
            <tr>
              <th scope="col">Person</th>
              <th scope="col">License</th>
              <th scope="col">Status</th>
              <th scope="col">Yearly saving</th>
              <th scope="col">Effective</th>
              <th scope="col">Guardrails</th>
              {onExempt !== null && <th scope="col">Action</th>}
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.externalId}>
                <th scope="row">
                  <Link href={`/people/${encodeURIComponent(row.externalId)}`}>{row.name}</Link>
                  <span class="signal">{row.email}</span>
                </th>
                <td data-label="License">{row.licenseName ?? 'No license'}</td>
                <td data-label="Status">
                  <span class={`badge badge-recommendation-${row.status}`}>{recommendationStatusLabel(row.status)}</span>
                </td>
                <td data-label="Yearly saving">{row.yearlySavingMinor === null || currency === null ? 'No price' : formatMoney(row.yearlySavingMinor, currency)}</td>
                <td data-label="Effective">
                  <time dateTime={row.effectiveDate} title={`${row.effectiveDate} (UTC)`}>
                    {formatCalendarDate(row.effectiveDate)}
                  </time>
                </td>
                <td data-label="Guardrails">
                  <GuardrailList guardrails={row.guardrails} />
                </td>
                {onExempt !== null && (
                  <td data-label="Action">
                    <button type="button" class="button-secondary" aria-label={`Exempt ${row.name}`} onClick={() => void onExempt(row)}>
                      Exempt
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroller>
    </section>
  );
}

/** Downloads every recommendation the page lists as CSV, built by the server, which records the export in the audit log. */
function ExportButton({ count }: { count: number }): JSX.Element {
  const [isExporting, setExporting] = useState(false);
  const [failure, setFailure] = useState<ApiFailure | null>(null);

  const exportCsv = async (): Promise<void> => {
    setExporting(true);
    setFailure(null);
    const result = await requestDownload('/api/exports/recommendations.csv', 'seatwise-recommendations.csv');
    setExporting(false);
    if (!result.ok) setFailure(result.error);
  };

  return (
    <div class="actions">
      <button type="button" class="button-secondary" disabled={isExporting} onClick={() => void exportCsv()}>
        {isExporting ? 'Exporting…' : `Export ${formatCount(count)} as CSV`}
      </button>
      {failure !== null && <ErrorMessage failure={failure} />}
    </div>
  );
}

import { Fragment, type JSX } from 'preact';
import type { PageProps } from '../app.tsx';
import { personSchema, type PersonView } from '../api-types.ts';
import { ErrorMessage, Loading, TableScroller, Time, useApiData, usePageTitle } from '../components/common.tsx';
import { GuardrailList } from '../components/guardrails.tsx';
import { recommendationKindLabel, recommendationStatusLabel } from '../components/recommendation-labels.ts';
import { pagerDutyRoleLabel } from '../../../src/exports/labels.ts';
import { formatCalendarDate, formatCount, humanize } from '../format.ts';
import { Link } from '../router.tsx';
import { useSessionGuard } from '../session-guard.ts';
import { describeSignal } from './people.tsx';
import { licenseLabel } from '../../../src/exports/labels.ts';

/** Renders one person: seat, last activity, coverage, features used and the recommendation's evidence. */
export function PersonPage({ session, location, onSessionExpired }: PageProps): JSX.Element {
  const externalId = decodeURIComponent(location.path.slice('/people/'.length));
  const { state } = useApiData(`/api/people/${encodeURIComponent(externalId)}`, personSchema);
  useSessionGuard(state, onSessionExpired);
  usePageTitle(state.status === 'loaded' ? state.data.name : 'Person');

  return (
    <section aria-labelledby="person-heading">
      <p class="breadcrumb">
        <Link href="/people">People</Link> / {state.status === 'loaded' ? state.data.name : externalId}
      </p>
      {state.status === 'loading' && <Loading label="Loading the person…" />}
      {state.status === 'failed' && (
        <>
          <h1 id="person-heading">Person</h1>
          <ErrorMessage failure={state.failure} supportEmail={session.supportEmail} />
        </>
      )}
      {state.status === 'loaded' && <PersonContent person={state.data} />}
    </section>
  );
}

function PersonContent({ person }: { person: PersonView }): JSX.Element {
  return (
    <>
      <h1 id="person-heading">{person.name}</h1>
      <div class="card">
        <dl class="details" aria-label="Seat and activity">
          <dt>Email</dt>
          <dd>{person.email}</dd>
          <dt>PagerDuty role</dt>
          <dd>{pagerDutyRoleLabel(person.role)}</dd>
          <dt>License</dt>
          <dd>
            {licenseLabel(person) ?? 'No license'}
            {person.seatBasis === 'role' && <span class="signal">PagerDuty did not allow reading licenses, so this is the seat type the PagerDuty role needs.</span>}
          </dd>
          <dt>Teams</dt>
          <dd>{person.teams.length === 0 ? 'None' : person.teams.join(', ')}</dd>
          <dt>Last incident action</dt>
          <dd>
            {person.lastSeenAt === null ? (
              person.isInvitedNeverSignedUp ? 'Invited, never signed up' : 'None in the synced history'
            ) : (
              <>
                <Time iso={person.lastSeenAt} /> · {describeSignal(person)}
              </>
            )}
          </dd>
          <dt>Last activity on any signal</dt>
          <dd>
            {person.lastActivityAt === null ? (
              'None recorded'
            ) : (
              <>
                <Time iso={person.lastActivityAt} /> · {describeSignal({ lastSeenSignal: person.lastActivitySignal, lastSeenDetail: person.lastActivityDetail })}
              </>
            )}
          </dd>
          {person.isDeleted && (
            <>
              <dt>Status</dt>
              <dd>Removed from PagerDuty</dd>
            </>
          )}
        </dl>
      </div>

      {person.unavailableSignals.length > 0 && (
        <div class="message message-warning">
          <p>
            <strong>Some signals could not be read</strong>, so missing activity there proves nothing:
          </p>
          <ul>
            {person.unavailableSignals.map((signal) => (
              <li key={signal.signal}>
                {humanize(signal.signal)}
                {signal.reason !== null && `: ${signal.reason}`}
              </li>
            ))}
          </ul>
        </div>
      )}

      <section class="card" aria-labelledby="coverage-heading">
        <h2 id="coverage-heading">On-call coverage</h2>
        <dl class="details">
          <dt>Escalation policies</dt>
          <dd>{formatCount(person.coverage.escalationPolicyIds.length)}</dd>
          <dt>Schedules</dt>
          <dd>{formatCount(person.coverage.scheduleIds.length)}</dd>
          <dt>Shifts in the next 90 days</dt>
          <dd>{formatCount(person.coverage.upcomingShiftCount)}</dd>
          <dt>Permanently on call</dt>
          <dd>{person.coverage.isPermanentOnCall ? 'Yes' : 'No'}</dd>
          <dt>Open incidents assigned</dt>
          <dd>{formatCount(person.coverage.openIncidentCount)}</dd>
        </dl>
      </section>

      <section class="card" aria-labelledby="features-used-heading">
        <h2 id="features-used-heading">Features used</h2>
        {person.features.length === 0 ? (
          <p class="hint">No feature use recorded in the synced history.</p>
        ) : (
          <TableScroller label="Features used, scrollable">
            <table aria-labelledby="features-used-heading" class="numeric-table">
              <thead>
                <tr>
                  <th scope="col">Feature</th>
                  <th scope="col">First used</th>
                  <th scope="col">Last used</th>
                  <th scope="col">Uses in 30 days</th>
                  <th scope="col">Uses in 60 days</th>
                  <th scope="col">Uses in 90 days</th>
                </tr>
              </thead>
              <tbody>
                {person.features.map((feature) => (
                  <tr key={feature.key}>
                    <th scope="row">{feature.name}</th>
                    <td>
                      <Time iso={feature.firstUsedAt} />
                    </td>
                    <td>
                      <Time iso={feature.lastUsedAt} />
                    </td>
                    <td>{formatCount(feature.count30d)}</td>
                    <td>{formatCount(feature.count60d)}</td>
                    <td>{formatCount(feature.count90d)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroller>
        )}
      </section>

      <section class="card" aria-labelledby="recommendation-heading">
        <h2 id="recommendation-heading">Recommendation</h2>
        {person.recommendation === null ? (
          <p class="hint">No change recommended for this person.</p>
        ) : (
          <>
            <p>
              <strong>{recommendationKindLabel(person.recommendation.kind)}</strong> · {recommendationStatusLabel(person.recommendation.status)} · effective{' '}
              {formatCalendarDate(person.recommendation.effectiveDate)}
            </p>
            <h3>Evidence</h3>
            <dl class="details">
              {Object.entries(person.recommendation.evidence).map(([key, value]) => (
                <Fragment key={key}>
                  <dt>{humanize(key)}</dt>
                  <dd>{formatEvidence(value)}</dd>
                </Fragment>
              ))}
            </dl>
            <h3>Guardrails</h3>
            <GuardrailList guardrails={person.recommendation.guardrails} />
          </>
        )}
      </section>
    </>
  );
}

/** Evidence values arrive as JSON; show them as plain text, never as markup. */
function formatEvidence(value: unknown): string {
  if (value === null || value === undefined) return '–';
  if (typeof value === 'number') return formatCount(value);
  if (typeof value === 'boolean') return value ? 'Yes' : 'No';
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.length === 0 ? 'None' : value.map((item) => formatEvidence(item)).join(', ');
  return JSON.stringify(value);
}

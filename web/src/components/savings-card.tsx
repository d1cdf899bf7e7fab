import type { JSX } from 'preact';
import type { SavingsView } from '../api-types.ts';
import { formatCount, formatMoney } from '../format.ts';
import { Link } from '../router.tsx';
import { RECOMMENDATION_KIND_LABELS } from './recommendation-labels.ts';

/**
 * Renders the potential yearly savings of the open recommendations per kind, or the number of
 * open recommendations with a note when no contract prices are entered. With `seatsByRole`, a note
 * explains that the seats come from people's roles.
 */
export function SavingsCard({ savings, seatsByRole }: { savings: SavingsView; seatsByRole: boolean }): JSX.Element {
  const openCount = savings.byKind.reduce((total, kind) => total + kind.openCount, 0);
  const unpricedCount = savings.byKind.reduce((total, kind) => total + kind.unpricedCount, 0);
  const blockedCount = savings.byKind.reduce((total, kind) => total + kind.blockedCount, 0);
  const { currency } = savings;

  return (
    <section class="card" aria-labelledby="savings-heading">
      <h2 id="savings-heading">Potential yearly savings</h2>
      {currency === null ? (
        <p class="hint">
          No contract prices are entered, so savings cannot be shown in money. <Link href="/settings">Enter your contract prices in Settings</Link>.
        </p>
      ) : (
        <p class="savings-total">
          <span class="tile-value">{formatMoney(savings.yearlyTotalMinor ?? 0, currency)}</span> a year from {formatCount(openCount)} open recommendations
        </p>
      )}
      <ul class="tiles" aria-label="Savings by recommendation kind">
        {savings.byKind.map((kind) => (
          <li key={kind.kind} class="tile">
            <span class="tile-label">{RECOMMENDATION_KIND_LABELS[kind.kind].title}</span>
            <span class="tile-value">{currency === null || kind.yearlySavingMinor === null ? formatCount(kind.openCount) : formatMoney(kind.yearlySavingMinor, currency)}</span>
            <span class="tile-detail">
              {currency === null ? 'open recommendations' : `${formatCount(kind.openCount)} open`}
              {kind.openCount > 0 && (
                <>
                  {' · '}
                  <Link href={`/people?recommendation=${kind.kind}`}>See who</Link>
                </>
              )}
            </span>
          </li>
        ))}
      </ul>
      {currency !== null && unpricedCount > 0 && (
        <p class="hint">
          {formatCount(unpricedCount)} open {unpricedCount === 1 ? 'recommendation has' : 'recommendations have'} no saving in {currency} and {unpricedCount === 1 ? 'is' : 'are'} not
          counted: {unpricedCount === 1 ? 'its license has' : 'their licenses have'} no price, or the figures predate the current contract and the next sync updates them.
        </p>
      )}
      {seatsByRole && (
        <p class="hint">
          PagerDuty did not allow reading licenses, so these recommendations change the seat each person's role needs. Check
          each license in PagerDuty first. <Link href="/recommendations">See the recommendations</Link>.
        </p>
      )}
      {blockedCount > 0 && (
        <p class="hint">
          {formatCount(blockedCount)} blocked {blockedCount === 1 ? 'recommendation is' : 'recommendations are'} left out. <Link href="/recommendations">See the guardrails</Link>.
        </p>
      )}
    </section>
  );
}

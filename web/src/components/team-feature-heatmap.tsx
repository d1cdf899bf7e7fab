import type { JSX } from 'preact';
import type { FeaturesView } from '../api-types.ts';
import { formatCount, formatPercent } from '../format.ts';
import { TableScroller } from './common.tsx';

type TeamFeatureUse = FeaturesView['teamFeatureUse'];

/**
 * Shading steps by share of the team, darkest last. Each pairs a background with a text colour
 * that keeps WCAG AA contrast (4.5:1 or more), and the cell always prints its figures, so the
 * shade is never the only carrier of meaning.
 */
const SHADES = [
  { upTo: 0, className: 'heat-0', label: 'no one' },
  { upTo: 0.25, className: 'heat-1', label: 'up to 25%' },
  { upTo: 0.5, className: 'heat-2', label: 'up to 50%' },
  { upTo: 0.75, className: 'heat-3', label: 'up to 75%' },
  { upTo: 1, className: 'heat-4', label: 'more than 75%' },
] as const;

function shadeOf(share: number): string {
  return SHADES.find((shade) => share <= shade.upTo)?.className ?? 'heat-4';
}

/**
 * Renders a team × feature heatmap as a table: each cell contains the team members who used the
 * feature in the last 30 days and their share of the team, shaded by that share. A table reads
 * well with a screen reader and scrolls sideways on a phone with the team column kept in view.
 */
export function TeamFeatureHeatmap({ use }: { use: TeamFeatureUse }): JSX.Element {
  const cells = new Map(use.cells.map((cell) => [`${cell.team}\u0000${cell.featureKey}`, cell]));

  return (
    <>
      <p class="hint" id="team-heatmap-description">
        Each cell shows how many members of the team used the feature in the last 30 days and their share of the team; darker cells mean a larger share. A person
        in several teams counts in each.
      </p>
      <TableScroller label="Feature use by team, scrollable">
        <table class="heatmap-table" aria-labelledby="team-heatmap-heading" aria-describedby="team-heatmap-description">
          <thead>
            <tr>
              <th scope="col">Team</th>
              {use.features.map((feature) => (
                <th key={feature.key} scope="col">
                  {feature.name}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {use.teams.map((team) => (
              <tr key={team.team}>
                <th scope="row">
                  {team.team}
                  <span class="signal">{team.memberCount === 1 ? '1 member' : `${formatCount(team.memberCount)} members`}</span>
                </th>
                {use.features.map((feature) => {
                  const cell = cells.get(`${team.team}\u0000${feature.key}`);
                  const activePeople = cell?.activePeople ?? 0;
                  return (
                    <td key={feature.key} class={shadeOf(cell?.share ?? 0)}>
                      {formatCount(activePeople)}
                      <span class="heat-share">{formatPercent(activePeople, team.memberCount)}</span>
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </TableScroller>
      <ul class="heat-legend" aria-label="Shading by share of the team">
        {SHADES.map((shade) => (
          <li key={shade.className}>
            <span class={`heat-swatch ${shade.className}`} aria-hidden="true" />
            {shade.label}
          </li>
        ))}
      </ul>
    </>
  );
}

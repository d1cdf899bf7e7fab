import type { JSX } from 'preact';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { WeeklyActivityView } from '../api-types.ts';
import type { WeeklyLinesData } from '../charts/weekly-lines.ts';
import { formatCalendarDate, formatCount } from '../format.ts';
import { TableScroller } from './common.tsx';

/**
 * Renders weekly active people per feature as a line chart, with the same figures as a table
 * under a disclosure for screen readers and keyboard users. ECharts loads as a separate chunk.
 */
export function WeeklyActivityChart({ weekly }: { weekly: WeeklyActivityView }): JSX.Element {
  const containerRef = useRef<HTMLDivElement>(null);
  const [loadFailure, setLoadFailure] = useState<string | null>(null);
  const data = useMemo<WeeklyLinesData>(
    () => ({ weeks: weekly.weekStarts.map(formatCalendarDate), series: weekly.series.map((series) => ({ name: series.featureName, values: series.activePeople })) }),
    [weekly],
  );

  useEffect(() => {
    let isCancelled = false;
    let dispose: (() => void) | undefined;
    import('../charts/weekly-lines.ts')
      .then(({ createWeeklyLines }) => {
        if (isCancelled || containerRef.current === null) return;
        dispose = createWeeklyLines(containerRef.current, data).dispose;
      })
      .catch(() => setLoadFailure('The chart could not be loaded. The table below has the same figures.'));
    return () => {
      isCancelled = true;
      dispose?.();
    };
  }, [data]);

  return (
    <>
      {loadFailure === null ? (
        <div
          ref={containerRef}
          class="chart chart-tall"
          role="img"
          aria-label={`Line chart of weekly active people per feature over ${formatCount(weekly.weekStarts.length)} weeks. The table Weekly active people per feature lists the same figures.`}
        />
      ) : (
        <p class="hint">{loadFailure}</p>
      )}
      <details class="chart-table">
        <summary>Show the figures as a table</summary>
        <TableScroller label="Weekly active people per feature, scrollable">
          <table class="numeric-table wide-table">
            <caption>Weekly active people per feature</caption>
            <thead>
              <tr>
                <th scope="col">Week of</th>
                {weekly.series.map((series) => (
                  <th key={series.featureKey} scope="col">
                    {series.featureName}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {weekly.weekStarts.map((week, index) => (
                <tr key={week}>
                  <th scope="row">{formatCalendarDate(week)}</th>
                  {weekly.series.map((series) => (
                    <td key={series.featureKey}>{formatCount(series.activePeople[index] ?? 0)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroller>
      </details>
    </>
  );
}

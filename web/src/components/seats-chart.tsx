import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { OverviewSeat } from '../api-types.ts';
import type { SeatsChartHandle } from '../charts/seats-chart.ts';

/**
 * Renders the seats bar chart. ECharts loads as a separate chunk after the table shows, so the
 * figures appear without waiting for the chart library.
 */
export function SeatsChart({ licenses }: { licenses: OverviewSeat[] }): JSX.Element {
  const containerRef = useRef<HTMLDivElement>(null);
  const chartRef = useRef<SeatsChartHandle | null>(null);
  const [loadFailure, setLoadFailure] = useState<string | null>(null);

  useEffect(() => {
    let isCancelled = false;
    import('../charts/seats-chart.ts')
      .then(({ createSeatsChart }) => {
        if (isCancelled || containerRef.current === null) return;
        chartRef.current = createSeatsChart(containerRef.current, licenses);
      })
      .catch(() => setLoadFailure('The chart could not be loaded. The table above has the same figures.'));
    return () => {
      isCancelled = true;
      chartRef.current?.dispose();
      chartRef.current = null;
    };
    // The chart is created once on mount; later data goes through update() below.
  }, []);

  useEffect(() => {
    chartRef.current?.update(licenses);
  }, [licenses]);

  if (loadFailure !== null) return <p class="hint">{loadFailure}</p>;
  return (
    <div
      ref={containerRef}
      class="chart"
      role="img"
      aria-label="Bar chart of paid, allocated, active and never active seats per license. The table Seats by license lists the same figures."
    />
  );
}

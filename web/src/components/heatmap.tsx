import type { JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { HeatmapData } from '../charts/weekly-heatmap.ts';

/** Renders a heatmap, loading ECharts as a separate chunk; `label` describes it to screen readers. */
export function Heatmap({ data, label }: { data: HeatmapData; label: string }): JSX.Element {
  const containerRef = useRef<HTMLDivElement>(null);
  const [loadFailure, setLoadFailure] = useState<string | null>(null);

  useEffect(() => {
    let isCancelled = false;
    let dispose: (() => void) | undefined;
    import('../charts/weekly-heatmap.ts')
      .then(({ createHeatmap }) => {
        if (isCancelled || containerRef.current === null) return;
        dispose = createHeatmap(containerRef.current, data).dispose;
      })
      .catch(() => setLoadFailure('The chart could not be loaded. Reload the page to try again.'));
    return () => {
      isCancelled = true;
      dispose?.();
    };
  }, [data]);

  if (loadFailure !== null) return <p class="hint">{loadFailure}</p>;
  return <div ref={containerRef} class="chart chart-tall" role="img" aria-label={label} />;
}

import { BarChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import type { OverviewSeat } from '../api-types.ts';

// Only the parts this chart uses, so the bundle leaves the rest of ECharts out.
echarts.use([BarChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

const SERIES = [
  { key: 'paid', name: 'Paid', color: '#1f4e8c' },
  { key: 'allocated', name: 'Allocated', color: '#4f83c3' },
  { key: 'active30d', name: 'Active in 30 days', color: '#2a7d4f' },
  { key: 'active90d', name: 'Active in 90 days', color: '#79b791' },
  { key: 'neverActive', name: 'Never active', color: '#b3541e' },
] as const;

export interface SeatsChartHandle {
  update(licenses: OverviewSeat[]): void;
  dispose(): void;
}

/** Draws seats per license as grouped bars into `container` and follows its size. */
export function createSeatsChart(container: HTMLElement, licenses: OverviewSeat[]): SeatsChartHandle {
  const chart = echarts.init(container, null, { renderer: 'canvas' });
  const numberFormat = new Intl.NumberFormat(undefined);
  const resizeObserver = new ResizeObserver(() => chart.resize());
  resizeObserver.observe(container);

  const update = (rows: OverviewSeat[]): void => {
    chart.setOption(
      {
        animation: false,
        // Rich-text tooltips draw on the canvas: no HTML, so the strict CSP applies and
        // license names from PagerDuty cannot become markup.
        tooltip: { trigger: 'axis', renderMode: 'richText', valueFormatter: (value: unknown) => (typeof value === 'number' ? numberFormat.format(value) : '–') },
        legend: { top: 0, type: 'scroll' },
        grid: { left: 8, right: 8, bottom: 8, top: 48, containLabel: true },
        xAxis: { type: 'category', data: rows.map((row) => row.licenseName), axisLabel: { interval: 0, overflow: 'break', width: 110, lineHeight: 16 } },
        yAxis: { type: 'value', minInterval: 1, axisLabel: { formatter: (value: number) => numberFormat.format(value) } },
        series: SERIES.map((series) => ({
          name: series.name,
          type: 'bar',
          itemStyle: { color: series.color },
          data: rows.map((row) => row[series.key]),
        })),
      },
      { notMerge: true },
    );
  };

  update(licenses);
  return {
    update,
    dispose() {
      resizeObserver.disconnect();
      chart.dispose();
    },
  };
}

import { LineChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';

// Only the parts this chart uses, so the bundle leaves the rest of ECharts out.
echarts.use([LineChart, GridComponent, LegendComponent, TooltipComponent, CanvasRenderer]);

/** How many lines show at first; the legend turns the others on. */
const INITIALLY_SHOWN_SERIES = 6;

/**
 * Line colours, the first six for the lines shown at first. When there are more series than
 * colours, the next round reuses the colours with dashed lines, so no two lines look alike.
 */
const PALETTE = ['#1f4e8c', '#c2410c', '#2a7d4f', '#7c3aed', '#0e7490', '#be185d', '#a16207', '#b91c1c', '#4d7c0f', '#4338ca', '#57534e', '#0f766e'];

export interface WeeklyLinesData {
  /** Axis labels, one per week, already formatted for the viewer. */
  weeks: string[];
  series: { name: string; values: number[] }[];
}

export interface WeeklyLinesHandle {
  dispose(): void;
}

/**
 * Draws one line per series into `container` and follows its size. The series with the most
 * active people show first; the rest stay listed in the legend, switched off.
 */
export function createWeeklyLines(container: HTMLElement, data: WeeklyLinesData): WeeklyLinesHandle {
  const chart = echarts.init(container, null, { renderer: 'canvas' });
  const numberFormat = new Intl.NumberFormat(undefined);
  const resizeObserver = new ResizeObserver(() => chart.resize());
  resizeObserver.observe(container);

  const byActivity = [...data.series].sort((left, right) => sum(right.values) - sum(left.values)).map((series) => series.name);
  const selected = Object.fromEntries(data.series.map((series) => [series.name, byActivity.indexOf(series.name) < INITIALLY_SHOWN_SERIES]));
  const styleOf = (name: string) => {
    const rank = byActivity.indexOf(name);
    return { color: PALETTE[rank % PALETTE.length], type: rank < PALETTE.length ? 'solid' : 'dashed' };
  };

  chart.setOption({
    animation: false,
    // Rich-text tooltips draw on the canvas, so no HTML is built from feature names.
    tooltip: { trigger: 'axis', renderMode: 'richText', valueFormatter: (value: unknown) => (typeof value === 'number' ? numberFormat.format(value) : '–') },
    legend: { top: 0, type: 'scroll', selected },
    grid: { left: 8, right: 16, bottom: 8, top: 48, containLabel: true },
    xAxis: { type: 'category', boundaryGap: false, data: data.weeks },
    yAxis: { type: 'value', minInterval: 1, axisLabel: { formatter: (value: number) => numberFormat.format(value) } },
    series: data.series.map((series) => {
      const style = styleOf(series.name);
      return { name: series.name, type: 'line', showSymbol: data.weeks.length <= 26, itemStyle: { color: style.color }, lineStyle: { color: style.color, type: style.type }, data: series.values };
    }),
  });

  return {
    dispose() {
      resizeObserver.disconnect();
      chart.dispose();
    },
  };
}

function sum(values: number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

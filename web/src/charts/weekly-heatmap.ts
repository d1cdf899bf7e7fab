import { HeatmapChart } from 'echarts/charts';
import { GridComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';

// Only the parts this chart uses, so the bundle leaves the rest of ECharts out.
echarts.use([HeatmapChart, GridComponent, TooltipComponent, VisualMapComponent, CanvasRenderer]);

export interface HeatmapData {
  /** Column labels, e.g. ISO week starts. */
  columns: string[];
  /** Row labels, e.g. feature or team names. */
  rows: string[];
  /** `[columnIndex, rowIndex, value]` triples. */
  cells: Array<[number, number, number]>;
}

export interface HeatmapHandle {
  dispose(): void;
}

/** Draws a heatmap of `data` into `container` and follows its size. */
export function createHeatmap(container: HTMLElement, data: HeatmapData): HeatmapHandle {
  const chart = echarts.init(container, null, { renderer: 'canvas' });
  const numberFormat = new Intl.NumberFormat(undefined);
  const resizeObserver = new ResizeObserver(() => chart.resize());
  resizeObserver.observe(container);
  const maxValue = Math.max(1, ...data.cells.map((cell) => cell[2]));

  chart.setOption({
    animation: false,
    // Rich-text tooltips draw on the canvas, so no HTML is built from PagerDuty names.
    tooltip: { renderMode: 'richText', valueFormatter: (value: unknown) => (typeof value === 'number' ? numberFormat.format(value) : '–') },
    grid: { left: 8, right: 8, top: 8, bottom: 56, containLabel: true },
    xAxis: { type: 'category', data: data.columns, splitArea: { show: true } },
    yAxis: { type: 'category', data: data.rows, splitArea: { show: true } },
    visualMap: { min: 0, max: maxValue, calculable: false, orient: 'horizontal', left: 'center', bottom: 0, inRange: { color: ['#eef3fa', '#1f4e8c'] } },
    series: [{ name: 'Active people', type: 'heatmap', data: data.cells, label: { show: data.cells.length <= 120, color: '#1b1f24' } }],
  });

  return {
    dispose() {
      resizeObserver.disconnect();
      chart.dispose();
    },
  };
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAGERDUTY_FEATURES } from '../analytics/pagerduty-features.ts';
import { launchChromium, type LaunchedBrowser } from '../../test/support/browser.ts';
import type { UtilizationReport } from './build.ts';
import { renderReport } from './formats.ts';

const PERSON_FEATURES = PAGERDUTY_FEATURES.filter((feature) => feature.scope === 'person');
const WEEKS = ['2026-05-11', '2026-05-18', '2026-05-25'];
const WEEKLY_CHART_SERIES = 8;

/** Builds a report in which every per-person feature of the catalogue had weekly active people. */
function reportWithEveryFeature(): UtilizationReport {
  return {
    formatVersion: 1,
    generatedAt: '2026-06-01T12:00:05.000Z',
    computedAt: '2026-06-01T12:00:00.000Z',
    account: { subdomain: 'acme', region: 'us', lastSyncAt: '2026-06-01T11:59:58.000Z' },
    dataConfidence: {},
    seats: [
      { license: 'Business (Full User)', licenseId: 'PFULL', roleGroup: 'FullUser', paid: 50, allocated: 42, active30d: 30, active60d: 33, active90d: 35, neverActive: 4 },
      { license: 'Business (Stakeholder)', licenseId: 'PSTAKE', roleGroup: 'Stakeholder', paid: 20, allocated: 12, active30d: 0, active60d: 0, active90d: 0, neverActive: 12 },
    ],
    seatsByRole: null,
    costs: null,
    features: PERSON_FEATURES.map((feature, index) => ({
      key: feature.key,
      name: feature.name,
      description: feature.description,
      category: feature.category,
      scope: feature.scope,
      requirement: feature.requirement,
      people30d: 1,
      people90d: index + 1,
      events30d: 1,
      events90d: 1,
    })),
    weeklyActive: PERSON_FEATURES.flatMap((feature, index) => WEEKS.map((weekStart) => ({ weekStart, featureKey: feature.key, activePeople: index + 1 }))),
    accountFeatures: [],
    people: [],
    recommendations: [],
    totalYearlySaving: 0,
  };
}

interface Box {
  text: string;
  left: number;
  top: number;
  right: number;
  bottom: number;
}

function overlaps(first: Box, second: Box): boolean {
  return first.left < second.right && second.left < first.right && first.top < second.bottom && second.top < first.bottom;
}

describe('html report charts', () => {
  let chromium: LaunchedBrowser;
  const html = renderReport(reportWithEveryFeature(), 'html');
  const charts = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];

  beforeAll(async () => {
    chromium = await launchChromium();
  });

  afterAll(async () => {
    await chromium.close();
  });

  it('weekly chart shows the busiest features', () => {
    const report = reportWithEveryFeature();
    const busiest = [...report.features].sort((left, right) => right.people90d - left.people90d).slice(0, WEEKLY_CHART_SERIES);
    const weekly = charts[1] ?? '';
    expect(weekly).toContain('Weekly active people per feature');

    const legendNames = report.features.filter((feature) => weekly.includes(`>${feature.name}</text>`)).map((feature) => feature.name);
    expect(legendNames.sort()).toEqual(busiest.map((feature) => feature.name).sort());
    // A scrolling legend shows one page and a page counter such as 1/3, which a static page cannot turn.
    expect(weekly).not.toMatch(/>\d+\/\d+<\/text>/);
  });

  it('weekly table lists every feature', () => {
    const table = /<table aria-label="Weekly active people per feature">[\s\S]*?<\/table>/.exec(html)?.[0] ?? '';
    for (const week of WEEKS) expect(table).toContain(`>${week}</th>`);
    for (const feature of PERSON_FEATURES) expect(table, `row of ${feature.key}`).toContain(`<th scope="row">${feature.name}</th>`);
  });

  it('chart texts do not overlap', async () => {
    const context = await chromium.browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const page = await context.newPage();
      await page.setContent(html);
      const figures = await page.locator('figure svg').all();
      expect(figures).toHaveLength(2);
      for (const figure of figures) {
        const boxes: Box[] = await figure.evaluate((svg) =>
          [...svg.querySelectorAll('text')]
            .map((text) => ({ text: text.textContent ?? '', rect: text.getBoundingClientRect() }))
            .filter(({ rect }) => rect.width > 0 && rect.height > 0)
            .map(({ text, rect }) => ({ text, left: rect.left, top: rect.top, right: rect.right, bottom: rect.bottom })),
        );
        expect(boxes.length).toBeGreaterThan(5);
        boxes.forEach((box, index) => {
          for (const other of boxes.slice(index + 1)) expect(overlaps(box, other), `"${box.text}" overlaps "${other.text}"`).toBe(false);
        });
      }
    } finally {
      await context.close();
    }
  });
});

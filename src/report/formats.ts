import * as echarts from 'echarts';
import { PAGERDUTY_FEATURES } from '../analytics/pagerduty-features.ts';
import { toCsv } from '../exports/csv.ts';
import { pagerDutyRoleLabel, recommendationKindLabel, recommendationStatusLabel } from '../exports/labels.ts';
import type { UtilizationReport } from './build.ts';

export type ReportFormat = 'json' | 'csv' | 'html';

/** Renders a report in one format; every format is a complete, self-contained text. */
export function renderReport(report: UtilizationReport, format: ReportFormat): string {
  switch (format) {
    // The JSON format is the stable interface for scripts (docs/report-format.md).
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    // CSV has one row per person, for spreadsheets.
    case 'csv':
      return renderCsv(report);
    // HTML is a page a person reads, with charts as inline SVG.
    case 'html':
      return renderHtml(report);
    default: {
      const unreachable: never = format;
      throw new Error(`Unknown report format ${String(unreachable)}`);
    }
  }
}

const PERSON_FEATURE_KEYS = PAGERDUTY_FEATURES.filter((feature) => feature.scope === 'person').map((feature) => feature.key);

/**
 * Renders one CSV row per person: identity, seat, last seen and last activity, recommendation, then
 * for each per-person feature of the catalogue its count in 90 days and its last use. It goes
 * through the dashboard's CSV writer, so a name synced from PagerDuty that starts a formula is
 * neutralised here too.
 */
function renderCsv(report: UtilizationReport): string {
  const recommendationByEmail = new Map(report.recommendations.map((recommendation) => [recommendation.email, recommendation]));
  const header = [
    'email',
    'name',
    'role',
    'license',
    'role_group',
    'teams',
    'deleted',
    'invited_never_signed_up',
    'last_seen_at',
    'last_seen_signal',
    'last_activity_at',
    'last_activity_signal',
    'recommendation',
    'recommendation_status',
    'yearly_saving',
    'effective_date',
    ...PERSON_FEATURE_KEYS.flatMap((key) => [`${key}_count_90d`, `${key}_last_used_at`]),
  ];
  const rows = report.people.map((person) => {
    const recommendation = person.deleted ? undefined : recommendationByEmail.get(person.email);
    return [
      person.email,
      person.name,
      person.role,
      person.license ?? '',
      person.roleGroup ?? '',
      person.teams.join('; '),
      String(person.deleted),
      String(person.invitedNeverSignedUp),
      person.lastSeenAt ?? '',
      person.lastSeenSignal ?? '',
      person.lastActivityAt ?? '',
      person.lastActivitySignal ?? '',
      recommendation?.kind ?? '',
      recommendation?.status ?? '',
      recommendation?.yearlySaving === null || recommendation?.yearlySaving === undefined ? '' : String(recommendation.yearlySaving),
      recommendation?.effectiveDate ?? '',
      ...PERSON_FEATURE_KEYS.flatMap((key) => {
        const use = person.features[key];
        return [String(use?.count90d ?? 0), use?.lastUsedAt ?? ''];
      }),
    ];
  });
  return toCsv(header, rows);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

const CHART_WIDTH = 760;
const CHART_HEIGHT = 300;

/** Renders an echarts option to an SVG string on the server, so the page needs no script. */
function renderChart(option: echarts.EChartsOption): string {
  const chart = echarts.init(null, null, { renderer: 'svg', ssr: true, width: CHART_WIDTH, height: CHART_HEIGHT });
  try {
    chart.setOption({ animation: false, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/** Space above a chart's plot for its title and a one-row legend below the title, in pixels. */
const TITLE_AND_LEGEND_HEIGHT = 80;

function seatsChart(report: UtilizationReport): string {
  const licenses = report.seats.map((seat) => seat.license);
  const series = (name: string, values: Array<number | null>) => ({ name, type: 'bar' as const, data: values.map((value) => value ?? 0) });
  return renderChart({
    title: { text: 'Seats by license' },
    // The server measures legend text narrower than browsers draw it, so the gap leaves room.
    legend: { top: 40, itemGap: 24 },
    grid: { top: TITLE_AND_LEGEND_HEIGHT, left: 50, right: 20, bottom: 40 },
    xAxis: { type: 'category', data: licenses },
    yAxis: { type: 'value', minInterval: 1 },
    series: [
      series('Paid', report.seats.map((seat) => seat.paid)),
      series('Allocated', report.seats.map((seat) => seat.allocated)),
      series('Active 30 days', report.seats.map((seat) => seat.active30d)),
      series('Active 90 days', report.seats.map((seat) => seat.active90d)),
    ],
  });
}

/**
 * Line colors of the weekly chart: the eight colors of the Okabe-Ito palette, chosen to stay
 * distinct under the common color vision deficiencies. The chart draws one line per color.
 */
const WEEKLY_CHART_COLORS = ['#E69F00', '#56B4E9', '#009E73', '#F0E442', '#0072B2', '#D55E00', '#CC79A7', '#000000'];

/** Width of the legend column on the right of the weekly chart, in pixels. */
const WEEKLY_LEGEND_WIDTH = 210;

/** Returns the keys of the features with weekly figures, the most people in 90 days first. */
function weeklyFeatureKeys(report: UtilizationReport): string[] {
  const people90d = new Map(report.features.map((feature) => [feature.key, feature.people90d]));
  const keys = [...new Set(report.weeklyActive.map((row) => row.featureKey))];
  return keys.sort((left, right) => (people90d.get(right) ?? 0) - (people90d.get(left) ?? 0) || left.localeCompare(right));
}

/**
 * Draws the weekly active people of the busiest features, one color each. The legend is a plain
 * column, because a paged legend would hide names behind buttons that a page without script
 * cannot turn. The weekly table lists every feature.
 */
function weeklyChart(report: UtilizationReport): string {
  const weeks = [...new Set(report.weeklyActive.map((row) => row.weekStart))].sort();
  const names = new Map(report.features.map((feature) => [feature.key, feature.name]));
  const keys = weeklyFeatureKeys(report).slice(0, WEEKLY_CHART_COLORS.length);
  return renderChart({
    title: { text: 'Weekly active people per feature' },
    color: WEEKLY_CHART_COLORS,
    legend: { type: 'plain', orient: 'vertical', right: 10, top: 50, width: WEEKLY_LEGEND_WIDTH - 20 },
    grid: { top: 50, left: 50, right: WEEKLY_LEGEND_WIDTH, bottom: 40 },
    xAxis: { type: 'category', data: weeks },
    yAxis: { type: 'value', minInterval: 1 },
    series: keys.map((key) => ({
      name: names.get(key) ?? key,
      type: 'line' as const,
      data: weeks.map((week) => report.weeklyActive.find((row) => row.weekStart === week && row.featureKey === key)?.activePeople ?? 0),
    })),
  });
}

/** Tabulates the weekly active people of every feature with weekly figures, one row per feature. */
function weeklyTable(report: UtilizationReport): string {
  const weeks = [...new Set(report.weeklyActive.map((row) => row.weekStart))].sort();
  const names = new Map(report.features.map((feature) => [feature.key, feature.name]));
  const activePeople = new Map(report.weeklyActive.map((row) => [`${row.featureKey}/${row.weekStart}`, row.activePeople]));
  const head = ['Feature', ...weeks].map((header) => `<th scope="col">${escapeHtml(header)}</th>`).join('');
  const body = weeklyFeatureKeys(report)
    .map((key) => {
      const cells = weeks.map((week) => `<td>${activePeople.get(`${key}/${week}`) ?? 0}</td>`).join('');
      return `<tr><th scope="row">${escapeHtml(names.get(key) ?? key)}</th>${cells}</tr>`;
    })
    .join('\n');
  return `<div class="table-scroll"><table aria-label="Weekly active people per feature"><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

function table(headers: string[], rows: Array<Array<string | number | boolean | null>>): string {
  const head = headers.map((header) => `<th scope="col">${escapeHtml(header)}</th>`).join('');
  const body = rows.map((row) => `<tr>${row.map((cell) => `<td>${escapeHtml(cell === null ? '—' : String(cell))}</td>`).join('')}</tr>`).join('\n');
  // The wrapper scrolls a wide table sideways, so the page itself stays as wide as a phone.
  return `<div class="table-scroll"><table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table></div>`;
}

function renderHtml(report: UtilizationReport): string {
  const account = report.account === null ? 'no connected account' : `${report.account.subdomain ?? 'unknown subdomain'} (${report.account.region ?? 'unknown region'})`;
  const money = (amount: number | null, currency: string | null) => (amount === null ? null : `${amount.toFixed(2)} ${currency ?? ''}`.trim());

  const seats = table(
    ['License', 'Role group', 'Paid', 'Allocated', 'Active 30 d', 'Active 60 d', 'Active 90 d', 'Never active'],
    report.seats.map((seat) => [seat.license, seat.roleGroup, seat.paid, seat.allocated, seat.active30d, seat.active60d, seat.active90d, seat.neverActive]),
  );
  const confidence = table(
    ['Signal', 'Status', 'Reason'],
    Object.entries(report.dataConfidence).map(([signal, state]) => [signal, state.status, state.reason]),
  );
  const features = table(
    ['Feature', 'People 30 d', 'People 90 d', 'Events 30 d', 'Events 90 d'],
    report.features.map((feature) => [feature.name, feature.people30d, feature.people90d, feature.events30d, feature.events90d]),
  );
  const accountFeatures = table(
    ['Account feature', 'Status', 'Configured', 'Exercised 90 d', 'Reason'],
    report.accountFeatures.map((feature) => [feature.name, feature.status, feature.configuredCount, feature.exercisedCount90d, feature.reason]),
  );
  const recommendations = table(
    ['Recommendation', 'Person', 'License', 'Status', 'Yearly saving', 'Effective', 'Guardrails'],
    report.recommendations.map((recommendation) => [
      recommendationKindLabel(recommendation.kind),
      `${recommendation.name} <${recommendation.email}>`,
      recommendation.license,
      recommendationStatusLabel(recommendation.status),
      money(recommendation.yearlySaving, recommendation.currency),
      recommendation.effectiveDate,
      recommendation.guardrails.map((guardrail) => guardrail.message).join(' '),
    ]),
  );
  const people = table(
    ['Name', 'Email', 'Role', 'License', 'Last seen', 'Last activity', 'Signal', 'Deleted', 'Invited, never signed up'],
    report.people.map((person) => [
      person.name,
      person.email,
      pagerDutyRoleLabel(person.role),
      person.license,
      person.lastSeenAt,
      person.lastActivityAt,
      person.lastActivitySignal,
      person.deleted ? 'yes' : 'no',
      person.invitedNeverSignedUp ? 'yes' : 'no',
    ]),
  );
  // Without contract prices every saving is unknown, not zero.
  const saving = report.costs === null ? 'unknown, because no contract prices are entered' : (money(report.totalYearlySaving, report.costs.currency) ?? '');
  const costs =
    report.costs === null
      ? '<p>No contract entered: enter prices per license to see savings and cost per active user.</p>'
      : `<p>Yearly cost ${escapeHtml(money(report.costs.yearlyTotal, report.costs.currency) ?? '')}; per person active in 30 days ${escapeHtml(money(report.costs.perActiveUser30d, report.costs.currency) ?? '—')}, in 90 days ${escapeHtml(money(report.costs.perActiveUser90d, report.costs.currency) ?? '—')}.</p>`;

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>Seatwise utilization report: ${escapeHtml(account)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 70rem; padding: 0 1rem; color: #1b1b1b; }
table { border-collapse: collapse; width: 100%; font-size: 0.9rem; }
.table-scroll { overflow-x: auto; margin: 1rem 0 2rem; }
th, td { border-bottom: 1px solid #ccc; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f2f2f2; }
figure { margin: 1rem 0; }
figure svg { max-width: 100%; height: auto; }
</style>
</head>
<body>
<h1>Seatwise utilization report</h1>
<p>Account ${escapeHtml(account)}. Generated ${escapeHtml(report.generatedAt)}; figures computed ${escapeHtml(report.computedAt ?? 'never')}; last sync ${escapeHtml(report.account?.lastSyncAt ?? 'never')}.</p>
<h2>Seats</h2>
<figure>${seatsChart(report)}</figure>
${seats}
${costs}
<h2>Recommendations</h2>
<p>Potential yearly saving of recommendations no guardrail blocks: ${escapeHtml(saving)}.</p>
${recommendations}
<h2>Features</h2>
<figure>${weeklyChart(report)}</figure>
${weeklyTable(report)}
${features}
${accountFeatures}
<h2>Data confidence</h2>
${confidence}
<h2>People</h2>
${people}
</body>
</html>
`;
}

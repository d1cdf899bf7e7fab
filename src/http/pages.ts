/**
 * Small server-rendered pages for people without a Seatwise session (an invited PagerDuty
 * admin) and for the mail outbox. They use no script and no inline style, so the strict CSP
 * holds, and every value is escaped.
 */

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => HTML_ESCAPES[character] ?? character);
}

/** A full page; `body` must already be escaped markup. */
export function renderPage(title: string, body: string, options: { isDemo?: boolean } = {}): string {
  const demoBanner = options.isDemo ? '<p><strong>Demo:</strong> this Seatwise connects to a simulated PagerDuty.</p>' : '';
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)} · Seatwise</title></head>
<body>
<main>
${demoBanner}
<h1>${escapeHtml(title)}</h1>
${body}
</main>
</body>
</html>`;
}

/** Plain words for what a PagerDuty OAuth scope lets Seatwise do. */
export function describeScope(scope: string): string {
  if (scope === 'read') {
    return 'Read-only access to everything your PagerDuty user can see: users, teams, schedules, escalation policies, services, incidents and their log entries, licenses and, for admins and owners, audit records. Seatwise cannot change anything in PagerDuty.';
  }
  if (scope === 'write') return 'Read and write access to everything your PagerDuty user can see and change.';
  return `Only these PagerDuty scopes: ${scope.split(' ').join(', ')}.`;
}

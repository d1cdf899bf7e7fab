/**
 * CSV text as RFC 4180 describes it (comma separated, CRLF line ends, fields quoted when they
 * contain a comma, quote or line break). Cells that a spreadsheet would run as a formula get a
 * leading apostrophe, because names and emails come from PagerDuty and are not trusted.
 */

const FORMULA_START = /^[=+\-@\t\r]/;

export function toCsv(header: string[], rows: string[][]): string {
  return [header, ...rows].map((row) => row.map(formatCell).join(',')).join('\r\n') + '\r\n';
}

function formatCell(value: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  if (/[",\r\n]/.test(safe)) return `"${safe.replaceAll('"', '""')}"`;
  return safe;
}

/** Starts a download of `text` as `fileName` without leaving the page. */
export function downloadText(fileName: string, text: string, mimeType = 'text/csv;charset=utf-8'): void {
  const url = URL.createObjectURL(new Blob([text], { type: mimeType }));
  const anchor = document.createElement('a');
  anchor.href = url;
  anchor.download = fileName;
  document.body.append(anchor);
  anchor.click();
  anchor.remove();
  // The browser has read the URL once click() returns; revoking later frees the blob.
  setTimeout(() => URL.revokeObjectURL(url), 0);
}

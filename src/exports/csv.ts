/**
 * Writes CSV as RFC 4180 describes it: comma-separated, CRLF line ends, and a field quoted when
 * it contains a comma, a quote or a line break. https://www.rfc-editor.org/rfc/rfc4180#section-2
 */

/**
 * First characters that make a spreadsheet read a cell as a formula: `=`, `+`, `-` and `@`, and
 * tab and carriage return, which some spreadsheets skip before checking the others.
 * https://owasp.org/www-community/attacks/CSV_Injection
 */
const FORMULA_START = /^[=+\-@\t\r]/;

/** Returns one CSV document with `header` as its first line. */
export function toCsv(header: readonly string[], rows: readonly (readonly string[])[]): string {
  return [header, ...rows].map((row) => row.map(formatCell).join(',')).join('\r\n') + '\r\n';
}

/**
 * Quotes one cell. A cell that would start a formula gets a leading apostrophe, so a name or
 * email synced from PagerDuty cannot run in the spreadsheet of the person who opens the file.
 */
export function formatCell(value: string): string {
  const neutralised = FORMULA_START.test(value) ? `'${value}` : value;
  if (/[",\r\n]/.test(neutralised)) return `"${neutralised.replaceAll('"', '""')}"`;
  return neutralised;
}

/** Builds the `Content-Disposition` value of a download named `fileName` (ASCII only). */
export function attachmentDisposition(fileName: string): string {
  if (!/^[A-Za-z0-9._-]+$/.test(fileName)) throw new Error(`The download name ${fileName} must contain only letters, digits, dots, dashes and underscores`);
  return `attachment; filename="${fileName}"`;
}

import { parseWholeNumberInput } from './format.ts';

/** One license's line of the contract form, as typed or imported. */
export interface PriceRow {
  licenseName: string;
  roleGroup: string | null;
  seats: string;
  price: string;
}

/**
 * Parses `license,seats,price` lines; quoted fields may contain commas. Returns the rows and one
 * sentence per bad line, naming the line. A license the synced account does not have is a bad
 * line: a price for it would never match a seat.
 */
export function parsePriceCsv(text: string, knownLicenses: ReadonlySet<string>): { rows: PriceRow[]; problems: string[] } {
  const rows: PriceRow[] = [];
  const problems: string[] = [];
  const seen = new Set<string>();
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    const lineNumber = index + 1;
    const split = splitCsvLine(line);
    if (split === null) {
      problems.push(`Line ${lineNumber}: a quote is not closed; put a license name in quotes as a whole, such as "Business (Full User)".`);
      return;
    }
    const cells = split.map((cell) => cell.trim());
    const [licenseName = '', seats = '', price = '', ...extraCells] = cells;
    if (rows.length === 0 && problems.length === 0 && /^license/i.test(licenseName)) return;

    const lineProblems: string[] = [];
    // A decimal comma, as in 41,50, splits the price into two cells, so reading only the first would import 41.00.
    if (extraCells.some((cell) => cell !== '')) {
      lineProblems.push(`the line has ${cells.length} cells but expected 3 (license, seats, price); quote a license name that contains a comma, and write the price with a point, such as 41.50`);
    }
    if (licenseName === '') lineProblems.push('the license name is empty');
    else if (!knownLicenses.has(licenseName)) lineProblems.push(`the synced PagerDuty account has no license named "${licenseName}"`);
    else if (seen.has(licenseName)) lineProblems.push(`"${licenseName}" already appears on an earlier line`);
    if (seats !== '' && parseWholeNumberInput(seats) === null) lineProblems.push(`seats must be a whole number or empty, got "${seats}"`);
    if (!/^\d{1,9}(\.\d{1,2})?$/.test(price)) lineProblems.push(`price must be an amount with a point and at most two decimals, such as 41.00, got "${price}"`);
    if (lineProblems.length > 0) {
      problems.push(`Line ${lineNumber}: ${lineProblems.join('; ')}.`);
      return;
    }
    seen.add(licenseName);
    rows.push({ licenseName, roleGroup: null, seats, price });
  });
  return { rows, problems };
}

/** Splits one CSV line into cells, or returns null when a quoted cell is not closed. */
function splitCsvLine(line: string): string[] | null {
  const cells: string[] = [];
  let cell = '';
  let isQuoted = false;
  for (let index = 0; index < line.length; index += 1) {
    const character = line.charAt(index);
    if (isQuoted && character === '"' && line.charAt(index + 1) === '"') {
      cell += '"';
      index += 1;
    } else if (character === '"') {
      isQuoted = !isQuoted;
    } else if (character === ',' && !isQuoted) {
      cells.push(cell);
      cell = '';
    } else {
      cell += character;
    }
  }
  if (isQuoted) return null;
  cells.push(cell);
  return cells;
}

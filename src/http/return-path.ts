const PLACEHOLDER_ORIGIN = 'http://seatwise.invalid';

/**
 * Accepts a return path only when it stays inside Seatwise: an absolute path, no scheme, no
 * host, no protocol-relative `//` or `/\` prefix and no control characters. Returns null
 * otherwise, so a crafted link can never redirect a browser to another site.
 */
export function safeReturnPath(value: string | undefined): string | null {
  if (value === undefined || value === '') return null;
  if (!value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) return null;
  if (/[\u0000-\u001f\u007f\\]/.test(value)) return null;
  let url: URL;
  try {
    url = new URL(value, PLACEHOLDER_ORIGIN);
  } catch {
    return null;
  }
  if (url.origin !== PLACEHOLDER_ORIGIN) return null;
  return `${url.pathname}${url.search}`;
}

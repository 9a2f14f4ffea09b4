/**
 * Everything a judge wrote, every file name and every path is untrusted: it reaches the
 * page only through these, as text or as a quoted attribute value.
 */
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text content or a double-quoted attribute value. */
export function esc(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] as string);
}

/** A number with fixed digits, `-` for none. */
export function num(value: number | null | undefined, digits = 2): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '-' : value.toFixed(digits);
}

/** An attribute's value for a number (empty for none), for sorting in the page. */
export function numAttr(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? '' : String(value);
}

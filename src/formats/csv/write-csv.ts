/** CSV writing: RFC 4180 quoting, LF line endings, no BOM. Deterministic for the same rows. */

/** Quotes a value when it holds a comma, a quote or a line break. */
export function csvCell(value: string): string {
  if (/[",\r\n]/.test(value)) return `"${value.replace(/"/g, '""')}"`;
  return value;
}

export function csvLine(cells: readonly string[]): string {
  return `${cells.map(csvCell).join(',')}\n`;
}

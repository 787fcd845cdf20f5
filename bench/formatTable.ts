/**
 * A plain-text table: columns padded to their widest cell, two spaces apart, and no line ending in spaces (the last
 * column is as wide as its cell, so a long list in one row does not pad every other row to its width).
 */
export function formatTable(rows: readonly (readonly string[])[]): string[] {
  const widths = (rows[0] ?? []).map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length)));
  return rows.map((row) =>
    row
      .map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}

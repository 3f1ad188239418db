/** The Markdown table every bench report prints its results as (pasted as-is into README.md and issues). */

/**
 * Prints a blank line, the header row, the separator and one line per row on stdout. The blank line is part of the
 * table because Markdown only starts a table after one, whatever the previous report printed. Cells are written
 * as given (no escaping): callers format their figures and keep `|` out of them.
 */
export function printMarkdownTable(headers: readonly string[], rows: readonly (readonly string[])[]): void {
  rows.forEach((row, i) => {
    if (row.length !== headers.length) throw new Error(`markdown table row ${i} has ${row.length} cells for ${headers.length} columns`);
  });
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  console.log(['', line(headers), `|${'---|'.repeat(headers.length)}`, ...rows.map(line)].join('\n'));
}

/** The bench reports' Markdown table: blank line, header, separator and rows, column order kept, bad rows refused. */
import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import { printMarkdownTable } from '../../bench/markdown-table.ts';

/** What printMarkdownTable wrote to stdout through console.log, as one string. */
function capture(t: TestContext, print: () => void): string {
  const log = t.mock.method(console, 'log', () => {});
  print();
  log.mock.restore();
  return log.mock.calls.map((c) => `${c.arguments.join(' ')}\n`).join('');
}

describe('printMarkdownTable', () => {
  it('prints a blank line, the header, one separator cell per column and the rows in column order', (t) => {
    const out = capture(t, () =>
      printMarkdownTable(
        ['model', 'peak RSS GiB', 'CPU'],
        [
          ['sd15', '3.07', 'AMD EPYC 7B13, 2 cores'],
          ['sdxl', '11.06', ''],
        ],
      ),
    );
    assert.equal(
      out,
      ['', '| model | peak RSS GiB | CPU |', '|---|---|---|', '| sd15 | 3.07 | AMD EPYC 7B13, 2 cores |', '| sdxl | 11.06 |  |', ''].join('\n'),
    );
  });

  it('prints the header and separator alone when there are no rows', (t) => {
    assert.equal(capture(t, () => printMarkdownTable(['a', 'b'], [])), '\n| a | b |\n|---|---|\n');
  });

  it('refuses a row whose cell count differs from the header, naming the row', (t) => {
    const log = t.mock.method(console, 'log', () => {});
    assert.throws(() => printMarkdownTable(['a', 'b'], [['1', '2'], ['3']]), /row 1 has 1 cells for 2 columns/);
    assert.equal(log.mock.callCount(), 0);
  });
});

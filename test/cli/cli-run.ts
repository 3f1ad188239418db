/** Runs the CLI in-process with its output captured, as the CLI tests drive it. */
import { strict as assert } from 'node:assert';
import { Writable } from 'node:stream';
import { main } from '../../src/cli/cli.ts';

export interface CliResult {
  code: number;
  out: string;
  err: string;
}

/** Runs `main(argv)`; `onLine` sees each stdout line as it is written and may abort the run (as Ctrl+C would). */
export async function runCli(argv: string[], onLine?: (line: string, abort: () => void) => void): Promise<CliResult> {
  const controller = new AbortController();
  let out = '';
  let err = '';
  const stdout = new Writable({
    write(chunk: Buffer, _enc, done) {
      const text = chunk.toString();
      out += text;
      for (const line of text.split('\n')) if (line !== '') onLine?.(line, () => controller.abort(new Error('interrupted')));
      done();
    },
  });
  const stderr = new Writable({
    write(chunk: Buffer, _enc, done) {
      err += chunk.toString();
      done();
    },
  });
  const code = await main(argv, { stdout, stderr, signal: controller.signal });
  return { code, out, err };
}

/** The path of the first image a `--json` run reports saved (fails the test, showing the output, when none was). */
export function savedPath(out: string): string {
  const saved = out.trim().split('\n').map((l) => JSON.parse(l) as { event: string; path?: string }).find((e) => e.event === 'saved');
  assert.ok(saved?.path, out);
  return saved.path;
}

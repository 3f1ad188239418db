#!/usr/bin/env node
/**
 * Entry point of the `fooocus` command; everything testable lives in cli.ts. The Node.js version is checked before
 * cli.ts is imported, because its imports need `node:sqlite`, which an older Node reports as a long stack.
 */
import { describeUnsupportedNode } from './node-version.ts';

const unsupported = describeUnsupportedNode(process.versions.node);
if (unsupported !== null) {
  process.stderr.write(`${unsupported}\n`);
  process.exit(1);
}
const { main } = await import('./cli.ts');
const controller = new AbortController();
process.once('SIGINT', () => controller.abort(new Error('interrupted')));
main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, signal: controller.signal }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);

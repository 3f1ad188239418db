/**
 * compose.yaml at the repository root, read line by line (no YAML library is a dependency): Redis with AOF fsync'd
 * every second and its password from the secret file (never on a command line), the studio and two workers on that
 * Redis, and every `fooocus` command in it a real command whose options that command accepts (each is parsed with
 * the command's own option table, strictly, as the CLI would).
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { describe, it } from 'node:test';
import { findCommand } from '../../src/cli/cli.ts';
import { createContext } from '../../src/cli/command.ts';

const lines = readFileSync(path.resolve(import.meta.dirname, '..', '..', 'compose.yaml'), 'utf8').split('\n');

/** The lines of a top-level section's entry (`services` > `redis`), up to the next entry at the same indent. */
function entry(section: string, name: string): string[] {
  const start = lines.indexOf(`${section}:`);
  assert.ok(start >= 0, `compose.yaml has no ${section}:`);
  const at = lines.indexOf(`  ${name}:`, start);
  assert.ok(at > start, `compose.yaml has no ${section}.${name}`);
  const end = lines.findIndex((line, i) => i > at && /^ {0,2}\S/.test(line));
  return lines.slice(at + 1, end < 0 ? undefined : end);
}

/** The `command:` of a service, a flow sequence of double-quoted strings (JSON-compatible). */
function commandOf(service: string): string[] {
  const line = entry('services', service).find((l) => l.startsWith('    command: '));
  assert.ok(line !== undefined, `services.${service} has no command`);
  return JSON.parse(line.slice('    command: '.length)) as string[];
}

class OptionsRead extends Error {}

/** The option table `fooocus <name>` parses its arguments with, taken from the command itself. */
type OptionTable = NonNullable<ParseArgsConfig['options']>;

async function optionsOf(name: string): Promise<OptionTable> {
  const run = findCommand(name);
  assert.ok(run !== undefined, `fooocus has no command ${name}`);
  let options: OptionTable = {};
  const ctx = createContext([], { stdout: process.stdout, stderr: process.stderr, signal: new AbortController().signal });
  ctx.parse = ((o: OptionTable) => {
    options = o;
    throw new OptionsRead();
  }) as typeof ctx.parse;
  await assert.rejects(run(ctx), OptionsRead);
  return options;
}

/** `npm run fooocus -- <command> <args>`: the command and its arguments. */
function fooocusArgs(command: string[]): { name: string; args: string[] } {
  assert.deepEqual(command.slice(0, 4), ['npm', 'run', 'fooocus', '--'], command.join(' '));
  const [name, ...args] = command.slice(4);
  return { name: name ?? '', args };
}

describe('compose.yaml', () => {
  it('runs Redis with AOF fsync every second and the password from the secret file only', () => {
    const command = commandOf('redis').join(' ');
    assert.match(command, /--appendonly yes --appendfsync everysec/);
    assert.match(command, /requirepass %s.*cat \/run\/secrets\/redis-password/);
    assert.doesNotMatch(command, /--requirepass/, 'a password on the command line shows in ps');
    assert.ok(entry('services', 'redis').includes('      - redis-password'));
    assert.deepEqual(entry('secrets', 'redis-password'), ['    file: ./redis-password', '']);
    assert.ok(lines.includes('    FOOOCUS_QUEUE_REDIS_PASSWORD_FILE: /run/secrets/redis-password'), 'the studio and workers read the same secret');
  });

  it('runs the studio and two workers with real fooocus commands and options, all on the same Redis', async () => {
    const urls = new Set<string>();
    const names = new Set<string>();
    for (const [service, expected] of [['studio', 'serve'], ['worker-1', 'worker'], ['worker-2', 'worker']] as const) {
      const { name, args } = fooocusArgs(commandOf(service));
      assert.equal(name, expected, service);
      const { values, positionals } = parseArgs({ args, options: await optionsOf(name), strict: true, allowPositionals: true });
      assert.deepEqual(positionals, [], service);
      assert.equal(typeof values.redis, 'string', `${service} names the Redis`);
      urls.add(values.redis as string);
      if (name === 'worker') names.add(values.name as string);
    }
    assert.deepEqual([...urls], ['redis://redis:6379']);
    assert.equal(names.size, 2, 'each worker has its own name');
  });

  it('refuses an option the command does not have, so the check above can fail', async () => {
    const options = await optionsOf('worker');
    assert.throws(() => parseArgs({ args: ['--gpu', '0'], options, strict: true, allowPositionals: true }), /Unknown option '--gpu'/);
  });
});

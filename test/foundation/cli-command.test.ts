/**
 * The command the app tells people to run is the one the README's set-up provides (`npm run fooocus -- ...`, on
 * npm's pinned Node), everywhere; and the `fooocus` bin gives one line, not a stack, on a Node.js that is too old.
 */
import { strict as assert } from 'node:assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { CLI_INVOCATION, formatCliCommand } from '../../src/app/cli-invocation.ts';
import { describeUnsupportedNode, REQUIRED_NODE_VERSION } from '../../src/cli/node-version.ts';
import * as pageInvocation from '../../src/ui/cli-invocation.ts';
// @ts-expect-error: the launcher is plain JavaScript without type declarations.
import { chooseLaunch, readRequiredNode } from '../../bin/fooocus.js';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
const launcher = path.join(repoRoot, 'bin', 'fooocus.js');
const COMMANDS = '(?:serve|generate|inspect|models|catalog|config|users|tokens|audit|doctor)';
/** `fooocus models ...` written without the invocation in front of it. */
const BARE_COMMAND = new RegExp(`(?<!npm run )\\bfooocus ${COMMANDS}\\b`);
const root = mkdtempSync(path.join(os.tmpdir(), 'fooocus-cli-command-'));
after(() => rmSync(root, { recursive: true, force: true }));

function listFiles(dir: string, pattern: RegExp): string[] {
  return readdirSync(path.join(repoRoot, dir), { recursive: true, encoding: 'utf8' })
    .filter((f) => pattern.test(f))
    .map((f) => path.join(dir, f));
}

describe('printed command hints', () => {
  it('use one form, the same in the app, the page and the launcher', () => {
    assert.equal(CLI_INVOCATION, 'npm run fooocus --');
    assert.equal(pageInvocation.CLI_INVOCATION, CLI_INVOCATION);
    assert.equal(pageInvocation.formatCliCommand('models pull x'), formatCliCommand('models pull x'));
    assert.ok(readFileSync(launcher, 'utf8').includes(`const CLI_INVOCATION = '${CLI_INVOCATION}';`));
  });

  it('never name a bare `fooocus <command>` in a string the sources print', () => {
    const offenders: string[] = [];
    for (const file of listFiles('src', /\.(ts|html)$/)) {
      readFileSync(path.join(repoRoot, file), 'utf8')
        .split('\n')
        .forEach((line, i) => {
          const code = line.trim();
          // Doc comments describe the command by name; only what is printed must be runnable.
          if (code.startsWith('*') || code.startsWith('//') || code.startsWith('/*')) return;
          if (BARE_COMMAND.test(line)) offenders.push(`${file}:${i + 1}: ${code}`);
        });
    }
    assert.deepEqual(offenders, []);
  });

  it('in the README, every command to type uses the same form', () => {
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
    const fenced = [...readme.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split('\n'));
    const inline = [...readme.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]!);
    const bare = [...fenced, ...inline].filter((text) => BARE_COMMAND.test(text));
    assert.deepEqual(bare, []);
  });

  it('runs as printed in a checkout after npm ci, with no build', { timeout: 60_000 }, () => {
    const [npm, run, script, dashes] = CLI_INVOCATION.split(' ');
    assert.deepEqual([npm, run, dashes], ['npm', 'run', '--']);
    const out = execFileSync('npm', ['run', '--silent', script!, '--', '--version'], { cwd: repoRoot, encoding: 'utf8' });
    assert.match(out, /^fooocus-ts \d+\.\d+\.\d+ \(Node\.js \d+\.\d+\.\d+\)\n$/);
    assert.equal(JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).scripts[script!], 'tsx src/cli/main.ts');
  });
});

describe('the Node.js version check', () => {
  it('is the one package.json declares, in the CLI and in the launcher', () => {
    const manifest = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { engines: { node: string }; bin: Record<string, string> };
    assert.equal(manifest.engines.node, `>=${REQUIRED_NODE_VERSION}`);
    assert.equal(readRequiredNode(path.join(repoRoot, 'package.json')), REQUIRED_NODE_VERSION);
    assert.equal(manifest.bin.fooocus, 'bin/fooocus.js');
  });

  it('names the found and needed versions and the npm form in one line; newer versions pass', () => {
    const message = describeUnsupportedNode('20.20.2');
    assert.equal(message, chooseLaunch({ found: '20.20.2', required: REQUIRED_NODE_VERSION, pinned: null }).message);
    assert.match(message!, /^fooocus needs Node\.js 22\.13\.0 or later \(it uses node:sqlite\); this is Node\.js 20\.20\.2\. .*npm run fooocus -- <command>$/);
    assert.ok(!message!.includes('\n'));
    for (const ok of ['22.13.0', '22.14.1', '23.0.0', '24.21.0', 'v25.1.0']) assert.equal(describeUnsupportedNode(ok), null, ok);
    for (const old of ['22.12.9', '21.9.0', '18.20.4']) assert.notEqual(describeUnsupportedNode(old), null, old);
    assert.deepEqual(chooseLaunch({ found: '20.20.2', required: '22.13.0', pinned: '/x/node' }), { action: 'reexec', node: '/x/node' });
    assert.deepEqual(chooseLaunch({ found: '24.21.0', required: '22.13.0', pinned: '/x/node' }), { action: 'run' });
  });

  it('`fooocus --version` through the bin prints the package version and the Node that runs it', () => {
    const r = spawnSync(process.execPath, [launcher, '--version'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, `fooocus-ts ${JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')).version} (Node.js ${process.versions.node})\n`);
  });

  /** A copy of the launcher in a project that needs a Node.js newer than any, so this Node is "too old". */
  function tooOldProject(withPinnedNode: boolean): { dir: string; marker: string } {
    const dir = mkdtempSync(path.join(root, 'project-'));
    mkdirSync(path.join(dir, 'bin'));
    copyFileSync(launcher, path.join(dir, 'bin', 'fooocus.js'));
    writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module', engines: { node: '>=999.0.0' } }));
    const marker = path.join(dir, 'pinned-node-ran');
    if (withPinnedNode) {
      // Stands in for npm's pinned Node: records that it ran, then runs the real one (which is still "too old").
      mkdirSync(path.join(dir, 'node_modules', 'node', 'bin'), { recursive: true });
      const pinned = path.join(dir, 'node_modules', 'node', 'bin', 'node');
      writeFileSync(pinned, `#!/bin/sh\ntouch '${marker}'\nexec '${process.execPath}' "$@"\n`);
      chmodSync(pinned, 0o755);
    }
    return { dir, marker };
  }

  it('on a Node.js that is too old, without the pinned Node: one line, exit 1, nothing imported', () => {
    const { dir } = tooOldProject(false);
    const r = spawnSync(process.execPath, [path.join(dir, 'bin', 'fooocus.js'), 'models', 'list'], { encoding: 'utf8' });
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, `fooocus needs Node.js 999.0.0 or later (it uses node:sqlite); this is Node.js ${process.versions.node}. Run it through the Node.js that npm installs for the project: npm ci once, then npm run fooocus -- <command>\n`);
  });

  it('on a Node.js that is too old, with the pinned Node installed: runs again on it, once', { skip: process.platform === 'win32' && 'uses a shell script as the stand-in Node' }, () => {
    const { dir, marker } = tooOldProject(true);
    const r = spawnSync(process.execPath, [path.join(dir, 'bin', 'fooocus.js'), '--version'], { encoding: 'utf8', timeout: 20_000 });
    assert.ok(existsSync(marker), 'the pinned Node was used');
    // The stand-in is as old as this Node, so the second launch refuses instead of re-running forever.
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^fooocus needs Node\.js 999\.0\.0 or later[^\n]*\n$/);
  });

  const olderNode = ['/usr/bin/node', '/usr/local/bin/node'].find((candidate) => {
    if (!existsSync(candidate)) return false;
    const version = spawnSync(candidate, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
    return describeUnsupportedNode(version) !== null;
  });
  it('started by this machine\'s older Node.js, the real bin runs on the pinned one', { skip: olderNode === undefined && 'no Node.js older than 22.13 on this machine' }, () => {
    const r = spawnSync(olderNode!, [launcher, '--version'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^fooocus-ts .* \(Node\.js (\d+)\.\d+\.\d+\)\n$/);
    assert.equal(describeUnsupportedNode(/Node\.js (\S+)\)/.exec(r.stdout)![1]!), null);
  });
});

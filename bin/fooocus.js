#!/usr/bin/env node
/**
 * Launcher of the `fooocus` command. It is plain JavaScript that any Node.js can parse, so a machine whose own
 * `node` is too old for the application (it needs the built-in `node:sqlite`) gets one line instead of a stack:
 * - Node new enough: run the CLI (the TypeScript source through tsx in a checkout, the built dist/ otherwise);
 * - too old, but npm's pinned Node is installed (the `node` devDependency): run this launcher again on that Node;
 * - too old and no pinned Node: say which version was found, which is needed, and the npm form that uses the
 *   pinned Node; exit 1.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The form every hint uses (src/app/cli-invocation.ts); it runs on npm's pinned Node from the checkout. */
const CLI_INVOCATION = 'npm run fooocus --';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The lowest version `engines.node` allows (it is written as `>=X.Y.Z`). */
export function readRequiredNode(manifestFile) {
  const range = JSON.parse(readFileSync(manifestFile, 'utf8')).engines.node;
  const match = /^>=\s*(\d+)\.(\d+)\.(\d+)$/.exec(range);
  if (match === null) throw new Error(`${manifestFile}: engines.node must be ">=X.Y.Z", got ${JSON.stringify(range)}`);
  return match.slice(1).join('.');
}

/** Whether version `found` (`20.20.2`, optionally with a leading `v`) is at least `required`. */
export function isAtLeast(found, required) {
  const a = found.replace(/^v/, '').split('.').map(Number);
  const b = required.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== b[i]) return (a[i] ?? 0) > b[i];
  return true;
}

/** What to do on this Node: run here, run on the pinned Node at `pinned`, or refuse with a one-line message. */
export function chooseLaunch({ found, required, pinned }) {
  if (isAtLeast(found, required)) return { action: 'run' };
  if (pinned !== null) return { action: 'reexec', node: pinned };
  return {
    action: 'refuse',
    message:
      `fooocus needs Node.js ${required} or later (it uses node:sqlite); this is Node.js ${found.replace(/^v/, '')}. ` +
      `Run it through the Node.js that npm installs for the project: npm ci once, then ${CLI_INVOCATION} <command>`,
  };
}

/** Set on the re-run, so that a pinned Node that is itself too old is refused instead of re-run forever. */
const RERUN_MARK = 'FOOOCUS_LAUNCHER_RERUN';

function findPinnedNode() {
  if (process.env[RERUN_MARK] !== undefined) return null;
  const candidate = path.join(root, 'node_modules', 'node', 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
  return existsSync(candidate) && realpathSync(candidate) !== realpathSync(process.execPath) ? candidate : null;
}

function runOn(node, args) {
  const child = spawn(node, [fileURLToPath(import.meta.url), ...args], { stdio: 'inherit', env: { ...process.env, [RERUN_MARK]: '1' } });
  // Ctrl-C reaches the whole process group: the child handles it; this process only waits for it.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal === null ? 1 : 128);
  });
}

async function runCli() {
  const source = path.join(root, 'src', 'cli', 'main.ts');
  if (existsSync(source) && existsSync(path.join(root, 'node_modules', 'tsx'))) {
    const { register } = await import('tsx/esm/api');
    register();
    await import(pathToFileURL(source).href);
  } else {
    await import(pathToFileURL(path.join(root, 'dist', 'cli', 'main.js')).href);
  }
}

// Run only as the command (through a symlink such as node_modules/.bin/fooocus too), not when a test imports it.
if (process.argv[1] !== undefined && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  const launch = chooseLaunch({ found: process.versions.node, required: readRequiredNode(path.join(root, 'package.json')), pinned: findPinnedNode() });
  if (launch.action === 'run') await runCli();
  else if (launch.action === 'reexec') runOn(launch.node, process.argv.slice(2));
  else {
    process.stderr.write(`${launch.message}\n`);
    process.exitCode = 1;
  }
}

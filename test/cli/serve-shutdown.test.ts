/**
 * `fooocus serve` as a real process, stopped while a job is running: by SIGTERM to the server alone (`kill`,
 * `docker stop`) and by Ctrl-C, which signals the whole process group, the inference process included (systemd's
 * default stop does the same with SIGTERM). Either way the server exits 0 within seconds, leaves no process
 * behind, closes the job database (its write-ahead log is folded back), and after a restart the job shows as
 * interrupted, not failed, and can be retried: nothing is lost.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { INTERRUPTED_MESSAGE } from '../../src/app/jobs/job-store.ts';

const MAIN = path.resolve(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const TSX = import.meta.resolve('tsx');
const STOP_LIMIT_S = 30;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Served {
  child: ChildProcess;
  url: string;
  exited: Promise<Exit>;
  output: () => string;
}

/** Every process whose command line names `dir` (the server and its inference process), from /proc. */
function processesNaming(dir: string): { pid: number; ppid: number; args: string }[] {
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ');
      // The command name in /proc/<pid>/stat is parenthesised and may hold spaces; the parent pid follows it.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (args.includes(dir)) found.push({ pid: Number(entry), ppid, args });
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

/** Starts `fooocus serve --port 0` in `cwd`, in a process group of its own, and resolves once it prints its address. */
async function serve(cwd: string, started: Served[]): Promise<Served> {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, 'serve', '--port', '0'], {
    cwd,
    env: { ...process.env, HOME: cwd, FOOOCUS_CONFIG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  const exited = new Promise<Exit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in 120 s:\n${output}`)), 120_000);
    const read = (d: Buffer): void => {
      output += d.toString();
      const match = /running at (http:\/\/127\.0\.0\.1:\d+)\//.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', read);
    child.stderr!.on('data', read);
    void exited.then(({ code }) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before starting:\n${output}`));
    });
  });
  const served = { child, url: '', exited, output: () => output };
  started.push(served);
  served.url = await url;
  return served;
}

/** Resolves at the job's first sampling step, read from its event stream (no polling, no rate limit). */
async function waitForFirstStep(url: string, id: string): Promise<void> {
  const response = await fetch(`${url}/api/v1/jobs/${id}/events`, { headers: { host: new URL(url).host }, signal: AbortSignal.timeout(120_000) });
  assert.equal(response.status, 200);
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of response.body!) {
    text += decoder.decode(chunk, { stream: true });
    if (/event: progress\ndata: \{"step":[1-9]/.test(text)) break;
    if (/event: (finished|failed|cancelled)/.test(text)) assert.fail(`the job ended before it could be interrupted:\n${text}`);
  }
  await response.body!.cancel().catch(() => undefined);
}

async function submitLongJob(url: string, prompt: string): Promise<string> {
  // Many steps at 512 px: minutes of work, so it is surely still running when the signal comes.
  const response = await fetch(`${url}/api/v1/generate`, {
    method: 'POST',
    headers: { host: new URL(url).host, origin: url, 'content-type': 'application/json' },
    body: JSON.stringify({ prompt, width: 512, height: 512, steps: 150, seed: '1' }),
  });
  assert.equal(response.status, 202, await response.clone().text());
  return ((await response.json()) as { id: string }).id;
}

async function readJob(url: string, id: string): Promise<{ status: string; error: string | null; request: { prompt: string } }> {
  const response = await fetch(`${url}/api/v1/jobs/${id}`, { headers: { host: new URL(url).host } });
  assert.equal(response.status, 200);
  return (await response.json()) as { status: string; error: string | null; request: { prompt: string } };
}

/** Sends `signal` (to the server, or to its whole process group) and checks the clean exit. Returns the seconds it took. */
async function stopAndCheck(served: Served, dir: string, signal: NodeJS.Signals, target: 'server' | 'group'): Promise<number> {
  const mine = processesNaming(dir);
  const worker = mine.find((p) => p.ppid === served.child.pid && p.args.includes('worker-main'));
  assert.ok(worker !== undefined, `the inference process runs as a child of the server: ${JSON.stringify(mine)}`);
  const signalled = performance.now();
  process.kill(target === 'group' ? -served.child.pid! : served.child.pid!, signal);
  const exit = await served.exited;
  const seconds = (performance.now() - signalled) / 1000;
  assert.deepEqual(exit, { code: 0, signal: null }, served.output());
  assert.ok(seconds < STOP_LIMIT_S, `took ${seconds.toFixed(1)} s to stop`);
  assert.deepEqual(processesNaming(dir), [], 'no process outlived the server');
  const db = path.join(dir, '.cache', 'jobs.sqlite');
  assert.ok(existsSync(db), `the job database is at ${db}`);
  assert.ok(!existsSync(`${db}-wal`), 'the job database was closed (its write-ahead log folded back)');
  return seconds;
}

describe('fooocus serve stops cleanly while a job is running', { skip: existsSync('/proc') ? false : 'reads /proc to find leftover processes (Linux)', timeout: 600_000 }, () => {
  const started: Served[] = [];
  const dirs: string[] = [];
  const tempDir = async (): Promise<string> => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fooocus-serve-'));
    dirs.push(dir);
    return dir;
  };
  after(async () => {
    // A failed test may leave a server (and its inference process) running: end the whole group.
    for (const s of started) {
      if (s.child.exitCode !== null || s.child.signalCode !== null) continue;
      try {
        process.kill(-s.child.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  test('SIGTERM to the server: exit 0 within seconds, nothing left running, the job interrupted and retryable after restart', async (t) => {
    const dir = await tempDir();
    const first = await serve(dir, started);
    const id = await submitLongJob(first.url, 'a long job');
    await waitForFirstStep(first.url, id);
    const seconds = await stopAndCheck(first, dir, 'SIGTERM', 'server');
    t.diagnostic(`stopped in ${seconds.toFixed(1)} s`);
    // Not silent while it waits: what it waits for, then that it is done.
    const said = first.output().slice(first.output().indexOf('SIGTERM: shutting down'));
    assert.match(said, new RegExp(`^SIGTERM: shutting down\nstopping: new connections refused.*\n(stopping: cutting \\d+ connections? still open after 5 s\n)?stopping: waiting up to 10 s for job ${id} to stop at its next step\n`));
    assert.match(said, new RegExp(`stopping: job ${id} recorded as interrupted \\(it can be retried\\)\nstopping: inference process ended, job database closed\nstopped\n$`));

    const second = await serve(dir, started);
    const job = await readJob(second.url, id);
    assert.equal(job.status, 'interrupted');
    assert.equal(job.error, INTERRUPTED_MESSAGE);
    assert.equal(job.request.prompt, 'a long job');
    const host = new URL(second.url).host;
    const retry = await fetch(`${second.url}/api/v1/jobs/${id}/retry`, { method: 'POST', headers: { host, origin: second.url } });
    assert.equal(retry.status, 202, await retry.clone().text());
    const retried = ((await retry.json()) as { id: string }).id;
    assert.equal((await readJob(second.url, retried)).request.prompt, 'a long job');
    const cancel = await fetch(`${second.url}/api/v1/jobs/${retried}/cancel`, { method: 'POST', headers: { host, origin: second.url } });
    assert.ok(cancel.ok, await cancel.text());
    second.child.kill('SIGTERM');
    assert.deepEqual(await second.exited, { code: 0, signal: null }, second.output());
  });

  test('Ctrl-C (SIGINT to the whole process group, inference process included): the job is interrupted, not crashed', async (t) => {
    const dir = await tempDir();
    const first = await serve(dir, started);
    const id = await submitLongJob(first.url, 'stopped from the terminal');
    await waitForFirstStep(first.url, id);
    const seconds = await stopAndCheck(first, dir, 'SIGINT', 'group');
    t.diagnostic(`stopped in ${seconds.toFixed(1)} s`);

    const second = await serve(dir, started);
    const job = await readJob(second.url, id);
    assert.deepEqual({ status: job.status, error: job.error }, { status: 'interrupted', error: INTERRUPTED_MESSAGE });
    second.child.kill('SIGTERM');
    assert.deepEqual(await second.exited, { code: 0, signal: null }, second.output());
  });
});

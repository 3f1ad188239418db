/**
 * `fooocus serve` as a real process: SIGTERM while a job is running stops it cleanly (exit 0, the inference
 * process gone), and after a restart the job shows as interrupted and can be retried; nothing is lost.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

const MAIN = path.resolve(import.meta.dirname, '..', '..', 'src', 'cli', 'main.ts');
const TSX = import.meta.resolve('tsx');

interface Served {
  child: ChildProcess;
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output: () => string;
}

/** Starts `fooocus serve --port 0` in `cwd` and resolves once it prints its address. */
async function serve(cwd: string): Promise<Served> {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, 'serve', '--port', '0'], { cwd, env: { ...process.env, HOME: cwd, FOOOCUS_CONFIG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in 120 s:\n${output}`)), 120_000);
    const check = (): void => {
      const match = /running at (http:\/\/127\.0\.0\.1:\d+)\//.exec(output);
      if (match !== null) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', check);
    void exited.then(({ code }) => reject(new Error(`serve exited with ${code} before starting:\n${output}`)));
  });
  return { child, url, exited, output: () => output };
}

function childPids(pid: number): number[] {
  const ps = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
  return ps.stdout.split('\n').map((l) => Number(l.trim())).filter((n) => n > 0);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('fooocus serve shuts down cleanly on SIGTERM', { timeout: 400_000 }, () => {
  let dir: string;
  const started: Served[] = [];
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fooocus-serve-'));
  });
  after(async () => {
    for (const s of started) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  test('exit 0 within seconds, no orphan worker, and the running job is interrupted and retryable after restart', async () => {
    const first = await serve(dir);
    started.push(first);
    const host = new URL(first.url).host;
    const headers = { host, origin: first.url, 'content-type': 'application/json' };
    // Long enough (many steps, large image) that it is still running when the signal arrives.
    const submit = await fetch(`${first.url}/api/v1/generate`, { method: 'POST', headers, body: JSON.stringify({ prompt: 'a long job', width: 512, height: 512, steps: 150, seed: '1' }) });
    assert.equal(submit.status, 202, await submit.clone().text());
    const { id } = (await submit.json()) as { id: string };
    let status = '';
    for (let i = 0; i < 600 && status !== 'running'; i++) {
      status = ((await (await fetch(`${first.url}/api/v1/jobs/${id}`, { headers: { host } })).json()) as { status: string }).status;
      if (status !== 'running') await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status, 'running');
    const workers = childPids(first.child.pid!);
    assert.ok(workers.length > 0, 'the inference worker runs as a child process');

    const signalled = performance.now();
    first.child.kill('SIGTERM');
    const exit = await first.exited;
    const seconds = (performance.now() - signalled) / 1000;
    assert.deepEqual(exit, { code: 0, signal: null }, first.output());
    assert.ok(seconds < 30, `took ${seconds.toFixed(1)} s to stop`);
    for (const pid of workers) assert.ok(!alive(pid), `worker ${pid} outlived the server`);

    const second = await serve(dir);
    started.push(second);
    const host2 = new URL(second.url).host;
    const job = (await (await fetch(`${second.url}/api/v1/jobs/${id}`, { headers: { host: host2 } })).json()) as { status: string; request: { prompt: string } };
    assert.equal(job.status, 'interrupted');
    assert.equal(job.request.prompt, 'a long job');
    const retry = await fetch(`${second.url}/api/v1/jobs/${id}/retry`, { method: 'POST', headers: { host: host2, origin: second.url } });
    assert.equal(retry.status, 202, await retry.clone().text());
    const retried = (await retry.json()) as { id: string };
    await fetch(`${second.url}/api/v1/jobs/${retried.id}/cancel`, { method: 'POST', headers: { host: host2, origin: second.url } });
    second.child.kill('SIGTERM');
    assert.equal((await second.exited).code, 0, second.output());
  });
});

/**
 * Crash-safety soak, bounded (about 45 s of load, loopback only, stops by itself): 8 clients submit, cancel, retry,
 * delete history, upload and download against the real server while the inference process is killed twice and
 * the server once (SIGKILL, then started again on the same data). Afterwards, once the server has been stopped and
 * started again (its recovery runs): every job is in a final or retryable state, every image in history exists
 * with the SHA-256 recorded when it was written, no file in outputs is unrecorded, and uploads are within their cap.
 * It prints those figures.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { openJobStore } from '../../src/app/jobs/job-store.ts';
import { ANY_OWNER, type JobRecord } from '../../src/app/jobs/job-types.ts';
import { encodePng } from '../../src/engine/output/png.ts';
import { findInferencePids } from '../app/worker/inference-processes.ts';

const LOAD_MS = 45_000;
const CLIENTS = 8;
const FINAL = new Set(['done', 'failed', 'cancelled', 'interrupted']);
const SOAK_UPLOADS = { maxPerOwner: 6, maxBytesPerOwner: 1024 * 1024 };

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts the soak server and resolves with its process once it listens. */
async function startSoakServer(dir: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'soak-server.ts'), dir, String(port), String(SOAK_UPLOADS.maxPerOwner), String(SOAK_UPLOADS.maxBytesPerOwner)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('"url"')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`soak server exited (${code}) before listening: ${stderr}`)));
  });
  return child;
}

async function killWorker(dir: string): Promise<boolean> {
  for (let i = 0; i < 40; i++) {
    const [pid] = findInferencePids(dir);
    if (pid !== undefined) {
      process.kill(pid, 'SIGKILL');
      return true;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

function randomPng(): Buffer {
  const rgb = new Uint8Array(64 * 64 * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = Math.floor(Math.random() * 256);
  return Buffer.from(encodePng(rgb, 64, 64));
}

interface Tally {
  requests: number;
  serverErrors: number;
  refusedWhileDown: number;
  byOp: Record<string, number>;
}

/** One client: random operations on its own jobs, uploads and images until `deadline`. */
async function runClient(base: () => string, deadline: number, tally: Tally): Promise<void> {
  const jobs: string[] = [];
  const uploads: string[] = [];
  const images: string[] = [];
  const pick = <T>(list: T[]): T | undefined => list[Math.floor(Math.random() * list.length)];
  const call = async (op: string, method: string, url: string, body?: unknown, type = 'application/json'): Promise<{ status: number; json: () => Promise<Record<string, unknown>> } | null> => {
    tally.requests++;
    tally.byOp[op] = (tally.byOp[op] ?? 0) + 1;
    const headers: Record<string, string> = { origin: base() };
    if (body !== undefined) headers['content-type'] = type;
    try {
      const response = await fetch(`${base()}${url}`, { method, headers, ...(body === undefined ? {} : { body: body instanceof Buffer ? body : JSON.stringify(body) }), signal: AbortSignal.timeout(10_000) });
      if (response.status >= 500) tally.serverErrors++;
      return { status: response.status, json: async () => (await response.json()) as Record<string, unknown> };
    } catch {
      tally.refusedWhileDown++;
      await new Promise((r) => setTimeout(r, 200));
      return null;
    }
  };
  while (Date.now() < deadline) {
    // A client's pace, not a flood: the point is many kinds of operation interleaved with the faults.
    await new Promise((r) => setTimeout(r, 100 + Math.random() * 300));
    const roll = Math.random();
    if (roll < 0.35) {
      const input = Math.random() < 0.3 ? pick(uploads) : undefined;
      const r = await call('submit', 'POST', '/api/v1/generate', { prompt: 'soak', width: 64, height: 64, steps: 2 + Math.floor(Math.random() * 4), imageCount: 1 + Math.floor(Math.random() * 2), ...(input ? { inputImageId: input, denoise: 0.6 } : {}) });
      if (r?.status === 202) jobs.push(String((await r.json()).id));
    } else if (roll < 0.4) {
      const id = pick(jobs);
      if (id) await call('cancel', 'POST', `/api/v1/jobs/${id}/cancel`);
    } else if (roll < 0.55) {
      const id = pick(jobs);
      const r = id ? await call('retry', 'POST', `/api/v1/jobs/${id}/retry`) : null;
      if (r?.status === 202) jobs.push(String((await r.json()).id));
    } else if (roll < 0.62) {
      const id = pick(jobs);
      if (id) await call('delete', 'DELETE', `/api/v1/history/${id}`);
    } else if (roll < 0.72) {
      const r = await call('upload', 'POST', '/api/v1/uploads', randomPng(), 'image/png');
      if (r?.status === 201) uploads.push(String((await r.json()).imageId));
    } else if (roll < 0.87) {
      const id = pick(jobs);
      const r = id ? await call('read', 'GET', `/api/v1/jobs/${id}`) : null;
      if (r?.status === 200) for (const image of (await r.json()).images as { imageId: string }[]) images.push(image.imageId);
    } else {
      const id = pick(images);
      if (id) await call('download', 'GET', `/api/v1/images/${id}`);
    }
  }
}

describe('crash-safety soak', { timeout: 180_000, skip: existsSync('/proc') ? false : 'needs /proc to find the inference process' }, () => {
  let dir = '';
  let server: ChildProcess | null = null;
  after(async () => {
    if (server !== null && server.exitCode === null) server.kill('SIGKILL');
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('leaves every job final or retryable, every image intact and recorded, no orphan files, uploads within their cap', async (t) => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'fooocus-soak-'));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    server = await startSoakServer(dir, port);
    const tally: Tally = { requests: 0, serverErrors: 0, refusedWhileDown: 0, byOp: {} };
    const started = Date.now();
    const deadline = started + LOAD_MS;
    const clients = Array.from({ length: CLIENTS }, () => runClient(() => url, deadline, tally));
    const at = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, started + ms - Date.now())));

    // The faults: the inference process at 8 s and 32 s, the server at 20 s (started again at once).
    await at(8_000);
    const firstKill = await killWorker(dir);
    await at(20_000);
    const dying = server;
    const exited = new Promise((r) => dying.once('exit', r));
    dying.kill('SIGKILL');
    await exited;
    server = await startSoakServer(dir, port);
    await at(32_000);
    const secondKill = await killWorker(dir);
    await Promise.all(clients);

    // Stop what is still queued, then let one last job run to the end (on a slow machine the faults may have
    // cut short every job), stop the server cleanly and start it once more: recovery runs at start.
    const history = (await (await fetch(`${url}/api/v1/history?limit=200`)).json()) as { items: { id: string; status: string }[] };
    for (const job of history.items.filter((j) => j.status === 'queued' || j.status === 'running')) {
      await fetch(`${url}/api/v1/jobs/${job.id}/cancel`, { method: 'POST', headers: { origin: url } });
    }
    const final = (await (await fetch(`${url}/api/v1/generate`, { method: 'POST', headers: { origin: url, 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'soak, last', width: 64, height: 64, steps: 2 }) })).json()) as { id: string };
    let finalStatus = 'queued';
    for (let i = 0; i < 600 && (finalStatus === 'queued' || finalStatus === 'running'); i++) {
      await new Promise((r) => setTimeout(r, 200));
      finalStatus = String(((await (await fetch(`${url}/api/v1/jobs/${final.id}`)).json()) as { status: string }).status);
    }
    assert.equal(finalStatus, 'done', 'a job after the faults runs to the end');
    const stopping = server;
    const stopped = new Promise<number | null>((r) => stopping.once('exit', r));
    stopping.kill('SIGTERM');
    assert.equal(await stopped, 0, 'the server stopped cleanly');
    server = await startSoakServer(dir, port);
    const last = server;
    const lastExit = new Promise<number | null>((r) => last.once('exit', r));
    last.kill('SIGTERM');
    assert.equal(await lastExit, 0);

    // The figures.
    const store = openJobStore(path.join(dir, 'cache', 'jobs.sqlite'));
    const jobs: JobRecord[] = [];
    for (let cursor: string | undefined, page; (page = store.list(ANY_OWNER, { limit: 200, ...(cursor ? { cursor } : {}) })); cursor = page.nextCursor) {
      jobs.push(...page.jobs);
      if (page.nextCursor === null) break;
    }
    const recorded = new Set<string>();
    let intact = 0;
    const problems: string[] = [];
    for (const job of jobs) {
      for (const result of job.results) {
        recorded.add(result.file);
        const file = path.join(dir, 'outputs', result.file);
        if (!existsSync(file)) problems.push(`missing ${result.file}`);
        else if (result.sha256 === undefined || createHash('sha256').update(readFileSync(file)).digest('hex') !== result.sha256) problems.push(`changed ${result.file}`);
        else intact++;
      }
    }
    store.close();
    const outputs = path.join(dir, 'outputs');
    const orphans: string[] = [];
    for (const day of readdirSync(outputs).filter((d) => /^\d{4}-\d{2}-\d{2}$/.test(d))) {
      for (const name of readdirSync(path.join(outputs, day))) if (!recorded.has(`${day}/${name}`)) orphans.push(`${day}/${name}`);
    }
    const uploadDirs = existsSync(path.join(outputs, 'uploads')) ? readdirSync(path.join(outputs, 'uploads')) : [];
    const uploadUse = uploadDirs.map((d) => {
      const files = readdirSync(path.join(outputs, 'uploads', d));
      return { files: files.length, bytes: files.reduce((n, f) => n + statSync(path.join(outputs, 'uploads', d, f)).size, 0), temp: files.filter((f) => f.startsWith('.')).length };
    });
    const statuses: Record<string, number> = {};
    for (const job of jobs) statuses[job.status] = (statuses[job.status] ?? 0) + 1;
    const generic = jobs.filter((j) => j.status === 'failed' && /Generation failed/.test(j.error ?? ''));
    t.diagnostic(`load: ${tally.requests} requests over ${LOAD_MS / 1000} s from ${CLIENTS} clients ${JSON.stringify(tally.byOp)}; 5xx: ${tally.serverErrors}; refused while the server was down: ${tally.refusedWhileDown}`);
    t.diagnostic(`faults: inference process killed ${Number(firstKill) + Number(secondKill)} times, server killed once`);
    t.diagnostic(`jobs: ${jobs.length} ${JSON.stringify(statuses)}; images in history: ${intact} intact of ${recorded.size}; orphan files: ${orphans.length}; uploads: ${JSON.stringify(uploadUse)} (cap ${SOAK_UPLOADS.maxPerOwner} files, ${SOAK_UPLOADS.maxBytesPerOwner} bytes)`);

    assert.ok(firstKill && secondKill, 'both inference-process kills found a process');
    assert.ok(jobs.length > 0 && intact > 0, 'the load made jobs and images');
    assert.deepEqual(jobs.filter((j) => !FINAL.has(j.status)).map((j) => `${j.id} ${j.status}`), [], 'every job is final or retryable');
    assert.deepEqual(generic.map((j) => j.id), [], 'no job failed for an unexplained reason');
    assert.deepEqual(problems, [], 'every image in history exists with the SHA-256 recorded when it was written');
    assert.deepEqual(orphans, [], 'no file in outputs that no job records');
    assert.equal(tally.serverErrors, 0, 'no 5xx answers');
    for (const use of uploadUse) {
      assert.ok(use.files <= SOAK_UPLOADS.maxPerOwner && use.bytes <= SOAK_UPLOADS.maxBytesPerOwner, JSON.stringify(use));
      assert.equal(use.temp, 0, 'no partial upload left');
    }
  });
});

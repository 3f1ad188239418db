/**
 * A real redis-server for tests: Debian's binary, on 127.0.0.1 at a free port, with its own temporary directory and
 * AOF (`appendfsync everysec`, as the README's set-up), stopped by the test. Without the binary the suites are
 * skipped locally with the install command, and fail under CI (`.ci/run` installs it), so CI cannot pass without
 * running them.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

function findRedisServer(): string | null {
  const found = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return found.status === 0 ? 'redis-server' : null;
}

export const REDIS_SERVER = findRedisServer();

/** For `describe(…, { skip })`: false when redis-server is here or under CI (where its absence must fail). */
export const skipWithoutRedis: string | false =
  REDIS_SERVER === null && process.env.CI === undefined ? 'redis-server is not installed: sudo apt-get install redis-server (CI installs it, and fails instead of skipping)' : false;

async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface TestRedis {
  url: string;
  port: number;
  /** Stops it (SIGTERM, or SIGKILL with `kill`) and waits for the process to end. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port and directory (the AOF brings the data back). */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  dispose(): Promise<void>;
}

export async function startTestRedis(): Promise<TestRedis> {
  if (REDIS_SERVER === null) throw new Error('redis-server is required: apt-get install -y redis-server (.ci/run installs it)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fooocus-redis-'));
  const port = await findFreePort();
  let child: ChildProcess | null = null;
  const start = async (): Promise<void> => {
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--daemonize', 'no'];
    const started = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    await new Promise<void>((resolve, reject) => {
      let output = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${output}`)), 10_000);
      started.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      started.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}): ${output}`));
      });
    });
  };
  const stop = async (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> => {
    const running = child;
    child = null;
    if (running === null || running.exitCode !== null) return;
    const exited = new Promise((resolve) => running.once('exit', resolve));
    running.kill(signal);
    await exited;
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop,
    start,
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

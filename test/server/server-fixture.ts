/** Builds a server around a FakeStudio with a temporary outputs directory, for inject()-driven tests. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../src/server/build-server.ts';
import type { ServerOptions } from '../../src/server/server-options.ts';
import { FakeStudio } from './fake-studio.ts';
import { guardAgainstPathLeaks } from './path-leak-guard.ts';

export const HOST = '127.0.0.1:7865';
export const ORIGIN = `http://${HOST}`;

export interface Fixture {
  app: FastifyInstance;
  studio: FakeStudio;
  root: string;
  outputsDir: string;
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

export async function createFixture(overrides: Partial<ServerOptions> = {}): Promise<Fixture> {
  const root = await mkdtemp(path.join(tmpdir(), 'fooocus-server-'));
  const outputsDir = path.join(root, 'outputs');
  const { mkdir } = await import('node:fs/promises');
  await mkdir(outputsDir);
  const studio = new FakeStudio(outputsDir);
  const logs: Record<string, unknown>[] = [];
  const app = await buildServer(studio, {
    host: '127.0.0.1',
    allowedHosts: [HOST, 'localhost:7865'],
    auth: null,
    outputsDir,
    logger: { level: 'info', stream: { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) } },
    ...overrides,
  });
  guardAgainstPathLeaks(app, [root]);
  return {
    app,
    studio,
    root,
    outputsDir,
    logs,
    close: async () => {
      await app.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Headers of a same-origin JSON request. */
export function jsonHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { host: HOST, origin: ORIGIN, 'content-type': 'application/json', ...extra };
}

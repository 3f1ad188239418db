/**
 * The real studio (demo model, one thread) behind the real server, in a temporary folder: what the end-to-end
 * tests of the API run against, with the guard that fails any response naming the folder. `prepare` sees the
 * folder and the config before the studio starts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { createDefaultConfig, type AppConfig } from '../../src/app/config/config-schema.ts';
import { createStudio, type Studio } from '../../src/app/studio/create-studio.ts';
import { createAppStudioPort } from '../../src/server/app-studio-port.ts';
import { buildServer } from '../../src/server/build-server.ts';
import { guardAgainstPathLeaks } from './path-leak-guard.ts';

export const STUDIO_HOST = '127.0.0.1:7865';

export interface StudioServer {
  dir: string;
  studio: Studio;
  app: FastifyInstance;
}

export async function startStudioServer(prefix: string, prepare: (dir: string, config: AppConfig) => void = () => undefined, software = 'test'): Promise<StudioServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const config = createDefaultConfig();
  config.paths = { models: path.join(dir, 'models'), outputs: path.join(dir, 'outputs'), cache: path.join(dir, 'cache') };
  config.runtime.threads = 1;
  prepare(dir, config);
  const studio = await createStudio(config, { software });
  const app = await buildServer(createAppStudioPort(studio), { host: '127.0.0.1', allowedHosts: [STUDIO_HOST], auth: null, outputsDir: studio.outputsDir, logger: false });
  guardAgainstPathLeaks(app, [dir]);
  return { dir, studio, app };
}

export async function stopStudioServer({ dir, studio, app }: StudioServer): Promise<void> {
  await app.close();
  await studio.close();
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Starts the studio server before the enclosing suite's tests and stops it after them; `use` receives it once it
 * is up, for the suite to keep the parts it reads.
 */
export function useStudioServer(use: (server: StudioServer) => void, ...start: Parameters<typeof startStudioServer>): void {
  let server: StudioServer | undefined;
  before(async () => {
    server = await startStudioServer(...start);
    use(server);
  });
  after(async () => {
    if (server !== undefined) await stopStudioServer(server);
  });
}

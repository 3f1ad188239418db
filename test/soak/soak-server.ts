/**
 * The server the crash-safety soak test starts, kills and starts again: the real studio (demo model, inference
 * process, SQLite queue, upload store) behind the real HTTP server on 127.0.0.1. Prints `{"url":...}` once it
 * listens; SIGTERM stops it cleanly (the running job interrupted, the database closed).
 * Usage: node --import tsx test/soak/soak-server.ts <dataDir> <port> <uploads per owner> <upload bytes per owner>
 */
import path from 'node:path';
import { createDefaultConfig } from '../../src/app/config/config-schema.ts';
import { createStudio } from '../../src/app/studio/create-studio.ts';
import { createAppStudioPort } from '../../src/server/app-studio-port.ts';
import { startServer } from '../../src/server/serve.ts';

const [dir, port, maxPerOwner, maxBytesPerOwner] = process.argv.slice(2) as [string, string, string, string];
const config = createDefaultConfig();
config.paths = { models: path.join(dir, 'models'), outputs: path.join(dir, 'outputs'), cache: path.join(dir, 'cache') };
config.runtime.threads = 1;
config.uploads.maxPerOwner = Number(maxPerOwner);
config.uploads.maxBytesPerOwner = Number(maxBytesPerOwner);
const studio = await createStudio(config, { software: 'Fooocus-TS soak' });
const server = await startServer(
  createAppStudioPort(studio),
  { host: '127.0.0.1', auth: null, outputsDir: studio.outputsDir, logger: false, rateLimit: { readsPerMinute: 1_000_000, submitsPerMinute: 1_000_000 } },
  { listenPort: Number(port), handleSignals: false },
);
process.once('SIGTERM', () => {
  void server.stop().then(() => process.exit(0));
});
console.log(JSON.stringify({ url: server.url }));

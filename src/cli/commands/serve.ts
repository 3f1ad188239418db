/**
 * `fooocus serve`: the studio and its HTTP API on 127.0.0.1:7865 by default. Loads the validated configuration,
 * puts the demo model in place when there is no model yet, and shuts down cleanly on Ctrl-C.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createStudio } from '../../app/studio/create-studio.ts';
import { createAppStudioPort } from '../../server/app-studio-port.ts';
import { startServer } from '../../server/serve.ts';
import { UsageError, type CommandContext } from '../command.ts';
import { CONFIG_OPTIONS, loadCommandConfig } from '../command-config.ts';
import { buildServerLogger, buildServerSettings } from '../server-settings.ts';

/** The browser UI compiled by `npm run build:ui`. */
export const UI_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'dist', 'ui');

export async function runServe(ctx: CommandContext): Promise<number> {
  const { values, positionals } = ctx.parse({
    ...CONFIG_OPTIONS,
    outputs: { type: 'string' },
    host: { type: 'string' },
    port: { type: 'string' },
    redis: { type: 'string' },
    'local-worker': { type: 'boolean' },
    precision: { type: 'string' },
  });
  if (positionals.length > 0) throw new UsageError('serve takes no arguments: npm run fooocus -- serve [--host 127.0.0.1] [--port 7865] [--config <file>] [--precision fp32|int8|fp16] [--redis <url> [--local-worker]]');
  if (values['local-worker'] !== undefined && values.redis === undefined) throw new UsageError('--local-worker goes with --redis <url>');
  const loaded = await loadCommandConfig(ctx, {
    config: values.config,
    models: values.models,
    outputs: values.outputs,
    'insecure-permissions': values['insecure-permissions'],
    precision: values.precision,
    redis: values.redis,
    // --redis is the scale-out shortcut: inference on workers only, unless --local-worker keeps this machine in.
    'local-worker': values.redis === undefined ? undefined : (values['local-worker'] ?? false),
  });
  const config = values.redis === undefined ? loaded.config : { ...loaded.config, queue: { ...loaded.config.queue, backend: 'redis' as const } };
  const host = values.host ?? config.server.host;
  const listenPort = values.port === undefined ? config.server.port : Number(values.port);
  if (!Number.isInteger(listenPort) || listenPort < 0 || listenPort > 65535) throw new UsageError(`--port must be an integer in 0..65535, got "${values.port}"`);
  const log = (line: string): void => {
    ctx.stderr.write(`${line}\n`);
  };
  const studio = await createStudio(config, { software: 'Fooocus-TS', log });
  const server = await startServer(
    createAppStudioPort(studio),
    {
      host,
      ...buildServerSettings(config),
      outputsDir: studio.outputsDir,
      uiDir: UI_DIR,
      logger: buildServerLogger((line) => ctx.stderr.write(line)),
    },
    { listenPort, log },
  ).catch(async (err: unknown) => {
    await studio.close();
    throw err;
  });
  ctx.stdout.write(`Fooocus-TS is running at ${server.url}/ (Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    ctx.signal.addEventListener('abort', () => resolve(), { once: true });
    server.app.server.once('close', () => resolve());
  });
  await server.stop();
  log('stopped');
  return 0;
}

/**
 * Loads the validated configuration for a command (defaults, config file, FOOOCUS_* variables, flags) and checks
 * the models and outputs directories' permissions. Warnings go to stderr; refusals are typed errors (exit 2).
 */
import { ensureAppDirectories, type AppDirectory } from '../app/config/app-directories.ts';
import { checkConfiguredDirectories } from '../app/config/file-permissions.ts';
import { loadConfig, type LoadedConfig } from '../app/config/load-config.ts';
import type { CommandContext } from './command.ts';

export interface ConfigFlags {
  config?: string | undefined;
  models?: string | undefined;
  outputs?: string | undefined;
  'insecure-permissions'?: boolean | undefined;
  /** serve and worker: queue.redisUrl, queue.localWorker, queue.workerConcurrency. */
  redis?: string | undefined;
  'local-worker'?: boolean | undefined;
  concurrency?: string | undefined;
  /** generate, serve and worker: runtime.precision. */
  precision?: string | undefined;
}

/** The option definitions every command that reads the configuration accepts. */
export const CONFIG_OPTIONS = {
  config: { type: 'string' },
  models: { type: 'string' },
  'insecure-permissions': { type: 'boolean' },
} as const;

/**
 * `create` names the folders the command writes to: those that do not exist yet are created (after the permission
 * check, with the modes it expects) and a line says so.
 */
export async function loadCommandConfig(ctx: CommandContext, flags: ConfigFlags, create: readonly AppDirectory[] = []): Promise<LoadedConfig> {
  const loaded = await loadConfig({
    cwd: process.cwd(),
    ...(flags.config === undefined ? {} : { file: flags.config }),
    env: process.env,
    flags: {
      models: flags.models,
      outputs: flags.outputs,
      'insecure-permissions': flags['insecure-permissions'],
      redis: flags.redis,
      'local-worker': flags['local-worker'],
      concurrency: flags.concurrency,
      precision: flags.precision,
    },
  });
  const warnings = [...loaded.warnings, ...(await checkConfiguredDirectories(loaded.config))];
  for (const w of warnings) ctx.stderr.write(`warning: ${w}\n`);
  for (const line of await ensureAppDirectories(loaded.config.paths, create)) ctx.stderr.write(`${line}\n`);
  return loaded;
}

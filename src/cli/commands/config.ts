/**
 * `fooocus config show [--config file] [--json]`: every setting, its value and where it came from.
 * `fooocus config lock [--config file]`: record the reviewed config's SHA-256 so later changes are refused.
 */
import type { parseArgs } from 'node:util';
import { ConfigError, ConfigLockMismatchError, InsecurePermissionsError } from '../../app/config/config-errors.ts';
import { lockConfig } from '../../app/config/config-lock.ts';
import { describeConfig, toRedactedJson } from '../../app/config/describe-config.ts';
import { loadConfig, locateConfigFile } from '../../app/config/load-config.ts';
import { UsageError, type CommandContext } from '../command.ts';

const USAGE = [
  'Usage: npm run fooocus -- config show [--config <file>] [--json] [--host h] [--port n] [--models dir] [--outputs dir] [--insecure-permissions]',
  '       npm run fooocus -- config lock [--config <file>] [--insecure-permissions]',
].join('\n');

const OPTIONS = {
  config: { type: 'string' },
  json: { type: 'boolean', default: false },
  host: { type: 'string' },
  port: { type: 'string' },
  models: { type: 'string' },
  outputs: { type: 'string' },
  'insecure-permissions': { type: 'boolean' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** Errors the user fixes in the config, its permissions or its lock: one line, exit code 2. */
const CONFIG_USER_ERRORS = [ConfigError, InsecurePermissionsError, ConfigLockMismatchError];

export async function runConfig(ctx: CommandContext, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Promise<number> {
  const { values, positionals } = ctx.parse(OPTIONS);
  const [action, ...extra] = positionals;
  if (values.help || action === undefined) {
    (values.help ? ctx.stdout : ctx.stderr).write(USAGE + '\n');
    return values.help ? 0 : 2;
  }
  if (extra.length > 0) throw new UsageError(`config ${action}: unexpected argument "${extra[0]}"\n${USAGE}`);
  try {
    if (action === 'show') return await showConfig(ctx, values, env, cwd);
    if (action === 'lock') return await lockConfigFile(ctx, values, env, cwd);
  } catch (err) {
    if (!CONFIG_USER_ERRORS.some((cls) => err instanceof cls)) throw err;
    ctx.stderr.write(`error: ${(err as Error).message.split('\n')[0]}\n`);
    return 2;
  }
  throw new UsageError(`config: unknown action "${action}" (show or lock)\n${USAGE}`);
}

type ConfigValues = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true; strict: true }>>['values'];

async function showConfig(ctx: CommandContext, values: ConfigValues, env: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  const loaded = await loadConfig({
    cwd,
    file: values.config,
    env,
    flags: {
      host: values.host,
      port: values.port,
      models: values.models,
      outputs: values.outputs,
      'insecure-permissions': values['insecure-permissions'],
    },
  });
  for (const warning of loaded.warnings) ctx.stderr.write(`${warning}\n`);
  const text = values.json ? JSON.stringify(toRedactedJson(loaded), null, 2) : describeConfig(loaded).join('\n');
  ctx.stdout.write(text + '\n');
  return 0;
}

async function lockConfigFile(ctx: CommandContext, values: ConfigValues, env: NodeJS.ProcessEnv, cwd: string): Promise<number> {
  const file = await locateConfigFile({ cwd, file: values.config, env });
  if (file === null) throw new UsageError('config lock: no config file to lock; create fooocus.config.json here or pass --config <file>');
  const state = await lockConfig(file, undefined, { allowInsecure: values['insecure-permissions'] === true });
  const change =
    state.previous === null ? '' : state.previous === state.sha256 ? ' (unchanged)' : ` (replaces the lock of SHA-256 ${state.previous})`;
  ctx.stdout.write(`locked ${file}: SHA-256 ${state.sha256} recorded in ${state.lockFile}${change}\n`);
  return 0;
}

import path from 'node:path';
import { ensureAppDirectories, isPresent } from '../../app/config/app-directories.ts';
import { convertModel, CONVERTIBLE_KINDS, isConvertibleKind, type ConvertibleKind } from '../../app/models/convert-model.ts';
import { importModel } from '../../app/models/import-model.ts';
import { isModelKind, MODEL_KINDS } from '../../app/models/model-kinds.ts';
import { openModelStore, type ModelListing } from '../../app/models/model-store.ts';
import type { ModelSource } from '../../app/models/trust-manifest.ts';
import { describeModelUserError } from '../../app/models/user-errors.ts';
import { createContext, UsageError, type CommandContext } from '../command.ts';
import { ProgressReporter } from '../progress-reporter.ts';
import { runPull } from './models-pull.ts';

/** Until the config module provides it, the models directory is `./models` or `--models <dir>`. */
export const DEFAULT_MODELS_DIR = 'models';

const MAKES_MODELS_FOLDER = '`models import`, `models pull`, `generate` or `serve` (with the same --models)';

const USAGE = [
  'Usage:',
  '  npm run fooocus -- models list [--json] [--models <dir>]',
  `  npm run fooocus -- models import <file> [--kind ${MODEL_KINDS.join('|')}] [--name <name>] [--link] [--models <dir>]`,
  '  npm run fooocus -- models pull <catalog-id>... | --preset <name> [--models <dir>] [--config <file>]',
  `  npm run fooocus -- models convert <file.pth|.bin|.pt|.patch> [--kind ${Object.keys(CONVERTIBLE_KINDS).join('|')}] [--name <name.safetensors>] [--json] [--models <dir>]`,
].join('\n');

/** Runs `body`; a model-trust error the user can act on becomes one `error:` line and exit code 2. */
export async function withModelUserErrors(ctx: CommandContext, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    const message = describeModelUserError(err);
    if (message === null) throw err;
    ctx.stderr.write(`error: ${message}\n`);
    return 2;
  }
}

export function formatSource(source: ModelSource, convertedFrom: string | null = null): string {
  const origin = source === 'local-import' ? 'local import' : 'catalog' in source ? `catalog ${source.catalog}` : source.url;
  return convertedFrom === null ? origin : `${origin}, converted from ${convertedFrom}`;
}

function formatBytes(n: number): string {
  return n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${n} B`;
}

export function formatModelList(models: readonly ModelListing[]): string {
  if (models.length === 0) return 'No trusted models yet. Add one with `npm run fooocus -- models import <file> --kind checkpoints`.';
  const rows = models.map((m) => [m.kind, m.name, formatBytes(m.size), m.family ?? '-', formatSource(m.source, m.convertedFrom), m.verifiedAt.slice(0, 10)]);
  const header = ['KIND', 'NAME', 'SIZE', 'FAMILY', 'SOURCE', 'VERIFIED'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

async function runList(ctx: CommandContext, args: string[]): Promise<number> {
  const { values, positionals } = createContext(args, ctx).parse({
    json: { type: 'boolean', default: false },
    models: { type: 'string', default: DEFAULT_MODELS_DIR },
  });
  if (positionals.length !== 0) throw new UsageError('models list takes no arguments (see npm run fooocus -- models --help)');
  if (!(await isPresent(values.models))) {
    // Listing creates nothing, so a mistyped --models is not turned into an empty store.
    ctx.stderr.write(`error: the models folder ${path.resolve(values.models)} does not exist; it is created by the first ${MAKES_MODELS_FOLDER}\n`);
    return 2;
  }
  const store = await openModelStore(values.models);
  const models = await store.list();
  ctx.stdout.write((values.json ? JSON.stringify(models, null, 2) : formatModelList(models)) + '\n');
  return 0;
}

async function runImport(ctx: CommandContext, args: string[]): Promise<number> {
  const { values, positionals } = createContext(args, ctx).parse({
    kind: { type: 'string', default: 'checkpoints' },
    name: { type: 'string' },
    link: { type: 'boolean', default: false },
    models: { type: 'string', default: DEFAULT_MODELS_DIR },
  });
  if (positionals.length !== 1) throw new UsageError('models import takes exactly one file: npm run fooocus -- models import <file> [--kind checkpoints]');
  if (!isModelKind(values.kind)) throw new UsageError(`--kind must be one of ${MODEL_KINDS.join(', ')}`);
  for (const line of await ensureAppDirectories({ models: values.models }, ['models'])) ctx.stderr.write(`${line}\n`);
  const store = await openModelStore(values.models);
  const imported = await importModel(store, positionals[0]!, { kind: values.kind, name: values.name, link: values.link, signal: ctx.signal });
  const family = imported.family === null ? '' : ` (${imported.family})`;
  ctx.stdout.write(`imported ${imported.kind}/${imported.name}${family}\n  sha256 ${imported.sha256}\n  path   ${imported.path}\n`);
  return 0;
}

async function runConvert(ctx: CommandContext, args: string[]): Promise<number> {
  const { values, positionals } = createContext(args, ctx).parse({
    kind: { type: 'string' },
    name: { type: 'string' },
    json: { type: 'boolean', default: false },
    models: { type: 'string', default: DEFAULT_MODELS_DIR },
  });
  if (positionals.length !== 1) throw new UsageError('models convert takes exactly one file: npm run fooocus -- models convert <file> [--kind upscalers|inpaint|controlnet]');
  const kinds = Object.keys(CONVERTIBLE_KINDS).join(', ');
  if (values.kind !== undefined && !isConvertibleKind(values.kind)) throw new UsageError(`--kind must be one of ${kinds} (conversion makes upscalers and inpaint models)`);
  for (const line of await ensureAppDirectories({ models: values.models }, ['models'])) ctx.stderr.write(`${line}\n`);
  const store = await openModelStore(values.models);
  const isTty = (ctx.stderr as NodeJS.WriteStream).isTTY === true && !values.json;
  const reporter = new ProgressReporter(ctx.stderr, isTty ? 'tty' : 'json');
  const converted = await convertModel(store, positionals[0]!, {
    kind: values.kind as ConvertibleKind | undefined,
    name: values.name,
    signal: ctx.signal,
    onProgress: (phase, done, total) => reporter.update({ label: phase, done: Math.round(done / 2 ** 20), total: Math.round(total / 2 ** 20), unit: 'MiB' }),
  });
  reporter.finishLine();
  if (values.json) {
    ctx.stdout.write(JSON.stringify(converted, null, 2) + '\n');
    return 0;
  }
  const skipped = converted.skipped.length === 0 ? '' : `\n  skipped ${converted.skipped.length} values with no tensor form: ${converted.skipped.slice(0, 8).join(', ')}${converted.skipped.length > 8 ? ', ...' : ''}`;
  ctx.stdout.write(
    `converted ${converted.kind}/${converted.name} (${converted.role}, ${converted.tensorCount} tensors)\n` +
      `  sha256 ${converted.sha256}\n  converted from ${converted.sourceSha256}\n  path   ${converted.path}${skipped}\n`,
  );
  return 0;
}

/** `fooocus models list|import|pull|convert`: what the store trusts, and the explicit act of trusting a local file. */
export async function runModels(ctx: CommandContext): Promise<number> {
  const [sub, ...args] = ctx.argv;
  return withModelUserErrors(ctx, async () => {
    if (sub === 'list') return runList(ctx, args);
    if (sub === 'import') return runImport(ctx, args);
    if (sub === 'pull') return runPull(ctx, args);
    if (sub === 'convert') return runConvert(ctx, args);
    if (sub === '--help' || sub === '-h') {
      ctx.stdout.write(USAGE + '\n');
      return 0;
    }
    throw new UsageError(`unknown models subcommand ${JSON.stringify(sub ?? '')}; use list, import, pull or convert (see npm run fooocus -- models --help)`);
  });
}

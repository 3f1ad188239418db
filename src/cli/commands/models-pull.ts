/**
 * `fooocus models pull <id>`: fetch a model listed in the signed catalog through the secure downloader (HTTPS,
 * host allowlist and SSRF checks from the configuration, size limit, SHA-256 before the file gets its name) and
 * record it as trusted.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { downloadFile } from '../../app/downloads/downloader.ts';
import { loadPresets } from '../../app/creative/presets.ts';
import { loadStyleLibrary } from '../../app/creative/style-library.ts';
import { loadCatalog, type CatalogEntry } from '../../app/models/catalog.ts';
import { findModelBundle, MODEL_BUNDLES, resolveModelBundle, type ManualModelFile } from '../../app/models/model-bundles.ts';
import { openModelStore } from '../../app/models/model-store.ts';
import { pullModel } from '../../app/models/pull-model.ts';
import { createContext, UsageError, type CommandContext } from '../command.ts';
import { CONFIG_OPTIONS, loadCommandConfig } from '../command-config.ts';
import { ProgressReporter } from '../progress-reporter.ts';

/** The catalog that ships with the application (signed; verified before it is parsed). */
export const BUILTIN_CATALOG = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'catalog', 'catalog.json');

/** The built-in presets, whose `downloads` lists name the catalog models each needs. */
export const BUILTIN_PRESETS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'data', 'presets');

/**
 * `fooocus models pull <id>...` or `fooocus models pull --preset <name>` (every model the preset needs, the way
 * Fooocus fetches a preset's models on first run; `image-prompt` is the Image Prompt tab's files, see
 * model-bundles.ts).
 */
export async function runPull(ctx: CommandContext, args: string[]): Promise<number> {
  const { values, positionals } = createContext(args, ctx).parse({ catalog: { type: 'string' }, preset: { type: 'string' }, json: { type: 'boolean', default: false }, ...CONFIG_OPTIONS });
  if ((positionals.length === 0) === (values.preset === undefined)) {
    throw new UsageError('models pull takes catalog ids or --preset <name>: npm run fooocus -- models pull sdxl-base-1.0, npm run fooocus -- models pull --preset realistic');
  }
  const { config } = await loadCommandConfig(ctx, { config: values.config, models: values.models, 'insecure-permissions': values['insecure-permissions'] }, ['models']);
  const store = await openModelStore(config.paths.models);
  const catalog = await loadCatalog(values.catalog ?? BUILTIN_CATALOG, { stateFile: path.join(store.dir, '.catalog-state.json') });
  let ids: readonly string[] = positionals;
  let byHand: readonly ManualModelFile[] = [];
  const bundle = values.preset === undefined ? undefined : findModelBundle(values.preset);
  if (bundle !== undefined) {
    const resolved = resolveModelBundle(catalog, bundle);
    if (resolved.missing.length > 0) throw new UsageError(`--preset ${values.preset}: the catalog has no ${resolved.missing.join(', ')} (update the application or pass --catalog)`);
    ids = bundle.ids;
    byHand = bundle.byHand;
  } else if (values.preset !== undefined) {
    const { styles } = await loadStyleLibrary({ builtinDir: path.join(BUILTIN_PRESETS, '..', 'styles') });
    const presets = await loadPresets(BUILTIN_PRESETS, { styleNames: new Set(styles.keys()) });
    const preset = presets.get(values.preset);
    if (preset === undefined) throw new UsageError(`--preset: "${values.preset}" does not exist; presets: ${[...presets.keys(), ...Object.keys(MODEL_BUNDLES)].join(', ')}`);
    ids = preset.downloads;
  }
  const entries = ids.map((id): CatalogEntry => {
    const entry = catalog.entries.find((e) => e.id === id);
    if (entry === undefined) throw new UsageError(`"${id}" is not in the catalog; known ids: ${catalog.entries.map((e) => e.id).join(', ')}`);
    return entry;
  });
  const isTty = (ctx.stderr as NodeJS.WriteStream).isTTY === true && !values.json;
  const reporter = new ProgressReporter(isTty ? ctx.stderr : ctx.stdout, isTty ? 'tty' : 'json');
  const policy = { allowedHosts: config.downloads.allowedHosts, pins: config.downloads.pins, maxRedirects: config.downloads.maxRedirects };
  for (const entry of entries) {
    const pulled = await pullModel(store, entry, {
      signal: ctx.signal,
      download: (request) => downloadFile({ ...request, policy }),
      onProgress: (done, total) => reporter.update({ label: `downloading ${entry.fileName}`, done: Math.round(done / 2 ** 20), total: Math.round(total / 2 ** 20), unit: 'MiB' }),
      onConvertProgress: (phase, done, total) => reporter.update({ label: `${phase} ${entry.fileName}`, done: Math.round(done / 2 ** 20), total: Math.round(total / 2 ** 20), unit: 'MiB' }),
    });
    reporter.finishLine();
    const stored = `${entry.kind}/${entry.convertTo ?? entry.fileName}`;
    const what = pulled.downloaded ? (entry.convertTo === undefined ? 'downloaded and verified' : `downloaded, verified and converted from ${entry.fileName}`) : 'already present and verified';
    reporter.message(`${what}: ${stored} from ${pulled.url}`, { path: pulled.path });
  }
  // Files the catalog cannot pin: the pull is not complete until the user adds them, so say exactly how.
  for (const file of byHand) reporter.message(`add by hand: ${file.stored}: ${file.how}`, { path: file.stored });
  return 0;
}

/**
 * The creative layer's data, loaded one way for the studio and the CLI so that both compose the same request from
 * the same inputs: the shipped styles plus the user's (`<models>/../styles`), the shipped presets (checked against
 * those styles and the catalog's ids), the user's wildcards (`<models>/../wildcards`) over the shipped ones
 * (`data/wildcards`), and the prompt expander, which counts tokens with the CLIP vocabulary (the shipped copy, or
 * the store's imported one).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ClipTokenizer } from '../../engine/index.ts';
import { resolveClipVocabulary } from '../models/clip-vocabulary.ts';
import { readVerifiedCatalog, type Catalog } from '../models/catalog.ts';
import type { ModelStore } from '../models/model-store.ts';
import type { CreativeContext } from './compose-request.ts';
import { indexCatalogFileNames, type CatalogFileNames } from './preset-models.ts';
import { loadPresets, type Preset } from './presets.ts';
import { createWordPoolExpander } from './prompt-expansion.ts';
import { loadStyleLibrary, type StyleLibrary, type StyleProblem } from './style-library.ts';
import { createDirectoryWildcardReader, createLayeredWildcardReader } from './wildcard-reader.ts';

/** `data/` of the application (beside `src/`, and beside `dist/` once built). */
export const SHIPPED_DATA_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'data');

/** The signed catalog that ships with the app: it maps the catalog ids presets use to model files. */
export const SHIPPED_CATALOG_FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'catalog', 'catalog.json');

/** The shipped catalog, verified; when it cannot be read, `onError` decides (throw, or warn and go on without). */
export async function readShippedCatalog(onError: (err: Error) => void): Promise<Catalog | null> {
  try {
    return (await readVerifiedCatalog(SHIPPED_CATALOG_FILE)).catalog;
  } catch (err) {
    onError(err as Error);
    return null;
  }
}

export interface CreativeData {
  styles: StyleLibrary;
  /** Style files or entries that were skipped, for the log. */
  styleProblems: StyleProblem[];
  presets: Map<string, Preset>;
  /** Catalog id -> store file, to turn preset model names into files. */
  catalogFiles: CatalogFileNames;
  /** What composeRequest needs, but for LoRA availability, which the caller answers from the store. */
  context: Omit<CreativeContext, 'loraAvailable'>;
}

export interface LoadCreativeDataOptions {
  store: ModelStore;
  /** The verified catalog; null when none could be read (preset model names are then taken as file names). */
  catalog: Catalog | null;
  /** Defaults to SHIPPED_DATA_DIR; tests point it elsewhere. */
  dataDir?: string;
}

export async function loadCreativeData(options: LoadCreativeDataOptions): Promise<CreativeData> {
  const dataDir = options.dataDir ?? SHIPPED_DATA_DIR;
  const userDir = path.dirname(options.store.dir);
  const { styles, problems } = await loadStyleLibrary({ builtinDir: path.join(dataDir, 'styles'), userDir: path.join(userDir, 'styles') });
  const presets = await loadPresets(path.join(dataDir, 'presets'), {
    styleNames: new Set(styles.keys()),
    ...(options.catalog === null ? {} : { catalogIds: new Set(options.catalog.entries.map((e) => e.id)) }),
  });
  const clip = await ClipTokenizer.fromGzipFile(await resolveClipVocabulary(options.store));
  return {
    styles,
    styleProblems: problems,
    presets,
    catalogFiles: indexCatalogFileNames(options.catalog),
    context: {
      library: styles,
      expander: createWordPoolExpander({ countTokens: (text: string) => clip.encode(text).length }),
      wildcards: createLayeredWildcardReader([
        createDirectoryWildcardReader(path.join(userDir, 'wildcards'), 'wildcards/ beside the models folder'),
        createDirectoryWildcardReader(path.join(dataDir, 'wildcards'), "the application's data/wildcards"),
      ]),
    },
  };
}

/**
 * Presets name their models by catalog id (`sdxl-base-1.0`), so a preset means the same model on every machine; the
 * model store knows files (`checkpoints/sd_xl_base_1.0.safetensors`). This maps a preset's checkpoint, refiner and
 * LoRAs to the file each catalog entry installs (what `pullModel` writes), and names what the store lacks.
 * A name that is not a catalog id of the right kind is taken as a file name, so a preset may also name a file.
 */
import type { Catalog } from '../models/catalog.ts';
import type { ModelKind } from '../models/model-kinds.ts';
import type { MissingModel } from './creative-errors.ts';
import type { LoraReference } from './lora-tokens.ts';
import type { Preset } from './presets.ts';

/** Catalog id -> where its entry lands in the store. */
export type CatalogFileNames = ReadonlyMap<string, { kind: ModelKind; fileName: string }>;

export interface PresetModels {
  model: string;
  refiner: string | null;
  loras: LoraReference[];
}

/** The file names a catalog installs, by id; an empty map without a catalog (then every name is a file name). */
export function indexCatalogFileNames(catalog: Catalog | null): CatalogFileNames {
  return new Map((catalog?.entries ?? []).map((e) => [e.id, { kind: e.kind, fileName: e.fileName }]));
}

/** The store file name for `name`: the catalog entry's file when `name` is an id of that kind, else `name` itself. */
export function toStoreFileName(name: string, kind: ModelKind, files: CatalogFileNames): string {
  const entry = files.get(name);
  return entry !== undefined && entry.kind === kind ? entry.fileName : name;
}

/** The preset's models as store file names. */
export function resolvePresetModels(preset: Preset, files: CatalogFileNames): PresetModels {
  return {
    model: toStoreFileName(preset.model, 'checkpoints', files),
    refiner: preset.refiner === null ? null : toStoreFileName(preset.refiner, 'checkpoints', files),
    loras: preset.loras.map((l) => ({ name: toStoreFileName(l.name, 'loras', files), weight: l.weight })),
  };
}

/**
 * The preset's models that `installed` lacks, in the order model, refiner, LoRAs. `installed` holds store keys
 * (`checkpoints/<file>`, `loras/<file>`) of trusted files.
 */
export function findMissingPresetModels(preset: Preset, files: CatalogFileNames, installed: ReadonlySet<string>): MissingModel[] {
  type Wanted = Pick<MissingModel, 'field' | 'kind'> & { name: string };
  const wanted: Wanted[] = [
    { field: 'model', kind: 'checkpoints', name: preset.model },
    ...(preset.refiner === null ? [] : [{ field: 'refiner', kind: 'checkpoints', name: preset.refiner } satisfies Wanted]),
    ...preset.loras.map((l): Wanted => ({ field: 'loras', kind: 'loras', name: l.name })),
  ];
  return wanted.flatMap(({ field, kind, name }) => {
    const fileName = toStoreFileName(name, kind, files);
    if (installed.has(`${kind}/${fileName}`)) return [];
    return [{ field, kind, fileName, catalogId: fileName === name ? null : name }];
  });
}

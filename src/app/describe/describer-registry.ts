/**
 * Which describer answers each Describe type, and the model-store files it reads: "anime" is the WD14 tagger
 * Fooocus downloads into its clip_vision folder (the .onnx graph and its .csv tag list); "photo" is the BLIP
 * captioner (a .safetensors in transformers' layout and its WordPiece vocab.txt, both in clip_vision). A type is
 * one entry here, not a branch in the use case.
 */
import { BlipCaptioner, FooocusError, loadWd14Tagger, type ImageDescriber, type RuntimeOptions } from '../../engine/index.ts';
import { formatCliCommand } from '../cli-invocation.ts';
import type { ModelKind } from '../models/model-kinds.ts';

export const DESCRIBE_TYPES = ['photo', 'anime'] as const;
export type DescribeType = (typeof DESCRIBE_TYPES)[number];

/** Fooocus's labels, for messages and the page. */
export const DESCRIBE_TYPE_LABELS: Record<DescribeType, string> = { photo: 'Photograph', anime: 'Art/Anime' };

export function isDescribeType(value: string): value is DescribeType {
  return (DESCRIBE_TYPES as readonly string[]).includes(value);
}

export interface DescriberFile {
  kind: ModelKind;
  name: string;
}

export interface DescriberEntry {
  /** The model-store files it reads, each verified (size and SHA-256) before `load` sees its path. */
  files: readonly DescriberFile[];
  /** Loads the describer from the verified paths, in the order of `files`. */
  load(paths: readonly string[], runtime: RuntimeOptions): Promise<ImageDescriber>;
}

export type DescriberRegistry = Partial<Record<DescribeType, DescriberEntry>>;

export const WD14_TAGGER_FILES = [
  { kind: 'clip_vision', name: 'wd-v1-4-moat-tagger-v2.onnx' },
  { kind: 'clip_vision', name: 'wd-v1-4-moat-tagger-v2.csv' },
] as const satisfies readonly DescriberFile[];

export const WD14_TAGGER_ENTRY: DescriberEntry = {
  files: WD14_TAGGER_FILES,
  load: ([model, tags], runtime) => loadWd14Tagger({ model: model!, tags: tags! }, { runtime }),
};

/**
 * The BLIP captioner in transformers' layout (Salesforce/blip-image-captioning-base: its model.safetensors and
 * vocab.txt, imported under these names; Fooocus's own BLIP file is the same base model as a pickle).
 */
export const BLIP_CAPTIONER_FILES = [
  { kind: 'clip_vision', name: 'blip-image-captioning-base.safetensors' },
  { kind: 'clip_vision', name: 'blip-image-captioning-base-vocab.txt' },
] as const satisfies readonly DescriberFile[];

export const BLIP_CAPTIONER_ENTRY: DescriberEntry = {
  files: BLIP_CAPTIONER_FILES,
  load: ([model, vocabulary], runtime) => BlipCaptioner.load({ model: model!, vocabulary: vocabulary! }, runtime),
};

/** The describers this build has. */
export function createDescriberRegistry(): DescriberRegistry {
  return { photo: BLIP_CAPTIONER_ENTRY, anime: WD14_TAGGER_ENTRY };
}

/** A Describe type whose files are not in the model store, or that this build has no describer for. */
export class DescriberNotInstalledError extends FooocusError {
  constructor(type: DescribeType, detail: string) {
    super('invalid', `the ${DESCRIBE_TYPE_LABELS[type]} describer (type "${type}") ${detail}`, { field: 'type', rule: 'installed' });
  }
}

/** The type's files missing from the store's listing (empty: all there); null when this build has no such describer. */
export function findMissingDescriberFiles(registry: DescriberRegistry, type: DescribeType, listing: readonly { kind: string; name: string }[]): DescriberFile[] | null {
  const entry = registry[type];
  if (entry === undefined) return null;
  return entry.files.filter((f) => !listing.some((m) => m.kind === f.kind && m.name === f.name));
}

/** The refusal for a type `findMissingDescriberFiles` did not find whole, naming the files and how to add them. */
export function describerNotInstalled(type: DescribeType, missing: readonly DescriberFile[] | null): DescriberNotInstalledError {
  if (missing === null) return new DescriberNotInstalledError(type, 'is not part of this build');
  return new DescriberNotInstalledError(type, `is not installed: it needs ${missing.map((f) => `${f.kind}/${f.name}`).join(', ')}; add ${missing.length > 1 ? 'them' : 'it'} with ${formatImportHint(missing)}`);
}

export function formatImportHint(files: readonly DescriberFile[]): string {
  return files.map((f) => formatCliCommand(`models import ${f.name} --kind ${f.kind}`)).join(' and ');
}

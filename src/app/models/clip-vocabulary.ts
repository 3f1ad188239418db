/**
 * Where the CLIP BPE vocabulary comes from. The application ships OpenAI's merges file in `data/tokenizers/`
 * (MIT, licence beside it), so released checkpoints work with no import step; a copy the user imported into the
 * model store (`models import <file> --kind tokenizers`) overrides it. Either way the bytes are checked against the
 * pinned size and SHA-256 before the file is parsed.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sha256File } from '../../engine/index.ts';
import { UnsupportedModelFileError } from './model-errors.ts';
import type { ModelStore } from './model-store.ts';
import { CLIP_BPE_VOCAB_NAME, KNOWN_TOKENIZER_ASSETS } from './tokenizer-assets.ts';

/** `data/tokenizers` of the application (the same path from `src/app/models` and from `dist/app/models`). */
export const SHIPPED_TOKENIZERS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'data', 'tokenizers');

export interface ClipVocabularyOptions {
  /** Defaults to SHIPPED_TOKENIZERS_DIR; tests point it at a changed copy. */
  shippedDir?: string;
}

/**
 * The verified path of the CLIP merges file: the store's copy when its manifest lists one (verified by the store,
 * so a changed copy there is refused, never silently replaced), else the shipped copy, checked against the pin.
 */
export async function resolveClipVocabulary(store: ModelStore, options: ClipVocabularyOptions = {}): Promise<string> {
  const imported = (await store.list()).some((m) => m.kind === 'tokenizers' && m.name === CLIP_BPE_VOCAB_NAME);
  if (imported) return store.resolve('tokenizers', CLIP_BPE_VOCAB_NAME);
  const file = path.join(options.shippedDir ?? SHIPPED_TOKENIZERS_DIR, CLIP_BPE_VOCAB_NAME);
  await verifyShippedAsset(file, CLIP_BPE_VOCAB_NAME);
  return file;
}

async function verifyShippedAsset(file: string, name: string): Promise<void> {
  const pin = KNOWN_TOKENIZER_ASSETS[name]!;
  const size = (await stat(file)).size;
  const reinstall = 'the copy shipped with the application was changed; restore it from the release (or `git checkout -- data/tokenizers`)';
  if (size !== pin.size) throw new UnsupportedModelFileError(file, `size is ${size} bytes, expected ${pin.size}: ${reinstall}`);
  const sha256 = await sha256File(file);
  if (sha256 !== pin.sha256) throw new UnsupportedModelFileError(file, `SHA-256 is ${sha256}, expected ${pin.sha256}: ${reinstall}`);
}

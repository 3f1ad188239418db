/**
 * The GroundingDINO vocabulary (`detection/*.txt`, BERT's bert-base-uncased vocab.txt layout) is checked at import
 * by the strict reader that loads it, plus the entries GroundingDINO's prompts are framed and split with, so the
 * store never records a vocabulary the text detector would refuse.
 */
import path from 'node:path';
import { WordPieceTokenizer } from '../../engine/index.ts';
import { UnsupportedModelFileError } from './model-errors.ts';
import type { ModelKind } from './model-kinds.ts';

/** `[CLS]`/`[SEP]` frame a prompt; "." and "?" end its phrases. */
const PROMPT_ENTRIES = ['[CLS]', '[SEP]', '.', '?'] as const;

/**
 * True when `name` is a vocabulary in `detection` and `file` passed the check (the check's error otherwise); false
 * when it is not one, so the caller applies its own rules.
 */
export function checkDetectionVocabularyFile(kind: ModelKind, name: string, file: string): boolean {
  if (kind !== 'detection' || path.extname(name).toLowerCase() !== '.txt' || path.extname(file).toLowerCase() !== '.txt') return false;
  const tokenizer = WordPieceTokenizer.fromFileSync(file);
  const missing = PROMPT_ENTRIES.filter((entry) => tokenizer.idOf(entry) === undefined);
  if (missing.length > 0) throw new UnsupportedModelFileError(file, `a GroundingDINO vocabulary needs the entries ${PROMPT_ENTRIES.join(' ')}; it lacks ${missing.join(' ')}`);
  return true;
}

/**
 * The files of the image describers that are not .safetensors: the WD14 tagger's published ONNX graph and its CSV
 * tag list, both kept in clip_vision as Fooocus keeps them, and the BLIP captioner's WordPiece vocab.txt. Each is
 * checked by the same reader that loads it (the ONNX checker: standard operators only, no external data, bounded
 * tensors; the strict tag-list parser; the strict vocabulary reader) before it is trusted, so an import never
 * records a file the describer would refuse.
 */
import path from 'node:path';
import { checkOnnxFile, readTagListFile, WordPieceTokenizer } from '../../engine/index.ts';
import type { ModelKind } from './model-kinds.ts';

const DESCRIBER_EXTENSIONS: Record<string, (file: string) => void> = {
  '.onnx': (file) => void checkOnnxFile(file),
  '.csv': (file) => void readTagListFile(file),
  '.txt': (file) => void WordPieceTokenizer.fromFileSync(file),
};

/**
 * True when `name` is a describer file of `kind` and `file` passed its check (the check's error otherwise); false
 * when the name is not one, so the caller applies its own rules.
 */
export function checkDescriberFile(kind: ModelKind, name: string, file: string): boolean {
  const extension = path.extname(name).toLowerCase();
  const check = DESCRIBER_EXTENSIONS[extension];
  if (kind !== 'clip_vision' || check === undefined || path.extname(file).toLowerCase() !== extension) return false;
  check(file);
  return true;
}

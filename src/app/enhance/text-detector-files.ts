/**
 * The store files a text-prompted Enhance tab ("face", "hand") runs on: GroundingDINO (boxes for the prompt), the
 * BERT vocabulary its text encoder was trained with, and Segment Anything (a mask per box). The names are fixed so
 * a submit can say exactly what is missing and how to add it.
 */
import type { ModelListing } from '../models/model-store.ts';

export interface TextDetectorFile {
  kind: 'detection' | 'sam';
  name: string;
  /** Where the file comes from, for the refusal. */
  source: string;
}

export const TEXT_DETECTOR_FILES = {
  detector: { kind: 'detection', name: 'grounding-dino-tiny.safetensors', source: "IDEA-Research/grounding-dino-tiny's model.safetensors" },
  vocabulary: { kind: 'detection', name: 'grounding-dino-tiny-vocab.txt', source: "IDEA-Research/grounding-dino-tiny's vocab.txt" },
  segmenter: { kind: 'sam', name: 'sam-vit-base.safetensors', source: "facebook/sam-vit-base's model.safetensors" },
} as const satisfies Record<string, TextDetectorFile>;

export type TextDetectorRole = keyof typeof TEXT_DETECTOR_FILES;

/** The text detector's files the store does not hold, in the order above. */
export function listMissingTextDetectorFiles(listing: readonly ModelListing[]): TextDetectorFile[] {
  return Object.values(TEXT_DETECTOR_FILES).filter((f) => !listing.some((m) => m.kind === f.kind && m.name === f.name));
}

/** How to add one file, as the other refusals say it. */
export function describeTextDetectorImport(file: TextDetectorFile): string {
  return `\`npm run fooocus -- models import <file> --kind ${file.kind} --name ${file.name}\` (${file.source})`;
}

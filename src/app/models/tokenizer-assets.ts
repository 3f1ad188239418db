/**
 * Non-safetensors files the store accepts, kind `tokenizers` only: exact names with a pinned size and SHA-256.
 * They are data (a gzip of text merges), never code. The application ships each of them in `data/tokenizers/`;
 * an imported copy in the store overrides the shipped one, and both are checked against the same pin whenever
 * they are read (see clip-vocabulary.ts).
 */
export interface PinnedAsset {
  size: number;
  sha256: string;
  /** Where the file and its digest come from. */
  source: string;
}

export const CLIP_BPE_VOCAB_NAME = 'bpe_simple_vocab_16e6.txt.gz';

export const KNOWN_TOKENIZER_ASSETS: Readonly<Record<string, PinnedAsset>> = {
  /**
   * OpenAI CLIP byte-pair merges (github.com/openai/CLIP, clip/bpe_simple_vocab_16e6.txt.gz, MIT licence), used by
   * SD 1.x CLIP ViT-L/14 and SDXL's OpenCLIP ViT-bigG/14. Size and digest of the copy in data/tokenizers/ (its
   * README.md records the same figures); a test hashes that copy against this pin.
   */
  [CLIP_BPE_VOCAB_NAME]: {
    size: 1_356_917,
    sha256: '924691ac288e54409236115652ad4aa250f48203de50a9e4722a6ecd48d6804a',
    source: 'openai/CLIP clip/bpe_simple_vocab_16e6.txt.gz',
  },
};

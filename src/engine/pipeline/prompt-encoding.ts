/**
 * Prompt encoding as Fooocus does it (ComfyUI's token-weight encoding with Fooocus's A1111-style mean
 * restoration): each prompt part is split into 77-token windows, encoded, weighted against the encoding of an
 * empty prompt, and concatenated along the token axis; the pooled vector comes from the first window.
 */
import type { ModelSession } from '../runtime/onnx-runtime.ts';
import type { ClipTokenizer } from '../text/clip-tokenizer.ts';
import { CLIP_WINDOW_LENGTH, tokenizeWeighted, type PadToken, type TokenWindow } from '../text/token-windows.ts';
import type { Tensor } from '../tensor.ts';

/** One text encoder and how its inputs are framed. */
export interface TextEncoder {
  session: ModelSession;
  tokenizer: ClipTokenizer;
  padWith: PadToken;
  width: number;
  /** Rows of the encoder's token embedding; every token id must be below it. */
  vocabSize: number;
}

/** Cross-attention context and pooled vector of one prompt. */
export interface PromptConditioning {
  context: Tensor; // [1, T, sum of encoder widths], T a multiple of 77
  /** Pooled output of the last encoder that has one (SDXL: bigG's projection), else null. */
  pooled: Float32Array | null;
}

interface EncodedPart {
  hidden: Float32Array; // [windows * 77, width]
  pooled: Float32Array | null; // first window's pooled vector
}

/**
 * Applies token weights the way Fooocus does: z' = (z - z_empty) * w + z_empty for each weighted token, then the
 * window is rescaled so its mean equals the unweighted mean.
 */
export function applyTokenWeights(z: Float32Array, zEmpty: Float32Array, weights: readonly number[], width: number): void {
  let before = 0;
  for (const v of z) before += v;
  weights.forEach((w, j) => {
    if (w === 1) return;
    for (let c = j * width; c < (j + 1) * width; c++) z[c] = (z[c]! - zEmpty[c]!) * w + zEmpty[c]!;
  });
  let after = 0;
  for (const v of z) after += v;
  if (after === 0) return;
  const scale = before / after;
  for (let i = 0; i < z.length; i++) z[i] = z[i]! * scale;
}

async function encodePart(encoder: TextEncoder, text: string, signal?: AbortSignal): Promise<EncodedPart> {
  if (encoder.tokenizer.vocabSize > encoder.vocabSize) {
    throw new Error(`the tokenizer has ${encoder.tokenizer.vocabSize} tokens but the text encoder only ${encoder.vocabSize}; this checkpoint needs a different vocabulary`);
  }
  const windows = tokenizeWeighted(encoder.tokenizer, text, { padWith: encoder.padWith });
  const weighted = windows.some((w) => w.weights.some((x) => x !== 1));
  const rows: TokenWindow[] = weighted ? [...windows, tokenizeWeighted(encoder.tokenizer, '', { padWith: encoder.padWith })[0]!] : windows;
  const tokens = BigInt64Array.from(rows.flatMap((r) => r.tokens.map(BigInt)));
  const out = await encoder.session.run({ tokens: { dims: [rows.length, CLIP_WINDOW_LENGTH], data: tokens } }, signal);
  const hidden = out.hidden!.data; // [rows, 77, width]
  const windowSize = CLIP_WINDOW_LENGTH * encoder.width;
  const result = new Float32Array(windows.length * windowSize);
  const zEmpty = weighted ? hidden.subarray(windows.length * windowSize, (windows.length + 1) * windowSize) : null;
  windows.forEach((w, k) => {
    const z = hidden.slice(k * windowSize, (k + 1) * windowSize);
    if (zEmpty !== null) applyTokenWeights(z, zEmpty, w.weights, encoder.width);
    result.set(z, k * windowSize);
  });
  const pooledAll = out.pooled?.data;
  const pooledWidth = out.pooled?.dims[1] ?? 0;
  return { hidden: result, pooled: pooledAll === undefined ? null : pooledAll.slice(0, pooledWidth) };
}

/**
 * Encodes a prompt given as parts (Fooocus encodes each line and each style part separately), with every encoder
 * of the model; the encoders' states are concatenated along the feature axis (SDXL: 768 + 1280 = 2048).
 */
export async function encodePrompt(encoders: readonly TextEncoder[], parts: readonly string[], signal?: AbortSignal): Promise<PromptConditioning> {
  const texts = parts.length === 0 ? [''] : parts;
  const width = encoders.reduce((n, e) => n + e.width, 0);
  const chunks: Float32Array[] = [];
  let pooled: Float32Array | null = null;
  for (const [p, text] of texts.entries()) {
    const perEncoder: EncodedPart[] = [];
    for (const encoder of encoders) perEncoder.push(await encodePart(encoder, text, signal));
    const tokens = perEncoder[0]!.hidden.length / encoders[0]!.width;
    const merged = new Float32Array(tokens * width);
    let offset = 0;
    perEncoder.forEach((part, e) => {
      const w = encoders[e]!.width;
      if (part.hidden.length / w !== tokens) throw new Error('text encoders split the prompt into different window counts');
      for (let t = 0; t < tokens; t++) merged.set(part.hidden.subarray(t * w, (t + 1) * w), t * width + offset);
      offset += w;
      if (p === 0 && part.pooled !== null) pooled = part.pooled;
    });
    chunks.push(merged);
  }
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const context = new Float32Array(total);
  let at = 0;
  for (const c of chunks) {
    context.set(c, at);
    at += c.length;
  }
  return { context: { dims: [1, total / width, width], data: context }, pooled };
}

/**
 * Finds the CLIP text towers in a checkpoint by key prefix and reads each one's configuration from its shapes.
 * Two layouts exist: Hugging Face `CLIPTextModel` (OpenAI CLIP ViT-L/14 in SD1.x and SDXL's first embedder) and
 * OpenCLIP's `TextTransformer` (ViT-H/14 in SD2.x, ViT-bigG/14 in SDXL).
 */
import type { ClipTextConfig } from './architecture.ts';
import type { TextEncoderSlot } from './family-profiles.ts';
import type { TensorShapes } from './tensor-shapes.ts';

/** Head width of every released CLIP text tower (architecture constant). */
const CLIP_HEAD_WIDTH = 64;

const SGM_EMBEDDER = /^(conditioner\.embedders\.(\d+)\.)(transformer\.text_model\.|model\.)/;
const LDM_COND_STAGE = /^(cond_stage_model\.)(transformer\.text_model\.|model\.)/;

/** Text-tower prefixes present in the checkpoint, in conditioning order (SGM embedder index; LDM has one). */
export function findTextEncoderSlots(names: Iterable<string>): TextEncoderSlot[] {
  const found = new Map<string, { slot: TextEncoderSlot; order: number }>();
  for (const name of names) {
    const sgm = SGM_EMBEDDER.exec(name);
    const ldm = sgm === null ? LDM_COND_STAGE.exec(name) : null;
    const match = sgm ?? ldm;
    if (match === null) continue;
    const tail = sgm === null ? match[2]! : match[3]!;
    const prefix = match[1]! + tail;
    if (found.has(prefix)) continue;
    const layout = tail === 'model.' ? 'open-clip' : 'clip-l';
    found.set(prefix, { slot: { prefix, layout }, order: sgm === null ? -1 : Number(sgm[2]) });
  }
  return [...found.values()].sort((a, b) => a.order - b.order).map((f) => f.slot);
}

/** Reads vocabulary, positions and width from the two embedding tables. */
function readEmbeddings(shapes: TensorShapes, tokenKey: string, positionKey: string): { vocabSize: number; maxPositions: number; width: number } {
  const [vocabSize, width] = shapes.shape(tokenKey, 2) as [number, number];
  const [maxPositions] = shapes.shape(positionKey, 2);
  shapes.expect(positionKey, [maxPositions!, width]);
  return { vocabSize, maxPositions: maxPositions!, width };
}

/** MLP width of one layer, read from its first projection and checked against its second. */
function readMlpWidth(shapes: TensorShapes, upKey: string, downKey: string, width: number): number {
  const [mlpWidth] = shapes.shape(upKey, 2);
  shapes.expect(upKey, [mlpWidth!, width]);
  shapes.expect(downKey, [width, mlpWidth!]);
  return mlpWidth!;
}

function readClipL(shapes: TensorShapes, p: string): ClipTextConfig {
  const { vocabSize, maxPositions, width } = readEmbeddings(shapes, `${p}embeddings.token_embedding.weight`, `${p}embeddings.position_embedding.weight`);
  const layers = shapes.countIndexed(`${p}encoder.layers.`);
  let mlpWidth = 0;
  for (let i = 0; i < Math.max(layers, 1); i++) {
    const l = `${p}encoder.layers.${i}.`;
    for (const proj of ['q_proj', 'k_proj', 'v_proj', 'out_proj']) shapes.expect(`${l}self_attn.${proj}.weight`, [width, width]);
    for (const norm of ['layer_norm1', 'layer_norm2']) shapes.expect(`${l}${norm}.weight`, [width]);
    const mlp = readMlpWidth(shapes, `${l}mlp.fc1.weight`, `${l}mlp.fc2.weight`, width);
    if (i > 0 && mlp !== mlpWidth) throw shapes.unsupported(`tensor "${l}mlp.fc1.weight" changes the MLP width between layers`);
    mlpWidth = mlp;
  }
  shapes.expect(`${p}final_layer_norm.weight`, [width]);
  const heads = Math.max(1, width / CLIP_HEAD_WIDTH);
  return { layout: 'clip-l', prefix: p, vocabSize, maxPositions, width, layers, heads, mlpWidth, activation: 'quick_gelu', projectionDim: null };
}

function readOpenClip(shapes: TensorShapes, p: string): ClipTextConfig {
  const { vocabSize, maxPositions, width } = readEmbeddings(shapes, `${p}token_embedding.weight`, `${p}positional_embedding`);
  const layers = shapes.countIndexed(`${p}transformer.resblocks.`);
  let mlpWidth = 0;
  for (let i = 0; i < Math.max(layers, 1); i++) {
    const l = `${p}transformer.resblocks.${i}.`;
    shapes.expect(`${l}attn.in_proj_weight`, [3 * width, width]);
    shapes.expect(`${l}attn.out_proj.weight`, [width, width]);
    for (const norm of ['ln_1', 'ln_2']) shapes.expect(`${l}${norm}.weight`, [width]);
    const mlp = readMlpWidth(shapes, `${l}mlp.c_fc.weight`, `${l}mlp.c_proj.weight`, width);
    if (i > 0 && mlp !== mlpWidth) throw shapes.unsupported(`tensor "${l}mlp.c_fc.weight" changes the MLP width between layers`);
    mlpWidth = mlp;
  }
  shapes.expect(`${p}ln_final.weight`, [width]);
  let projectionDim: number | null = null;
  if (shapes.has(`${p}text_projection`)) {
    // Applied as `pooled @ text_projection`, so the matrix is [width, projection].
    projectionDim = shapes.shape(`${p}text_projection`, 2)[1]!;
    shapes.expect(`${p}text_projection`, [width, projectionDim]);
  }
  const heads = Math.max(1, width / CLIP_HEAD_WIDTH);
  return { layout: 'open-clip', prefix: p, vocabSize, maxPositions, width, layers, heads, mlpWidth, activation: 'gelu', projectionDim };
}

/** The configuration of the text tower in `slot`, checked layer by layer. */
export function detectTextEncoder(shapes: TensorShapes, slot: TextEncoderSlot): ClipTextConfig {
  return slot.layout === 'clip-l' ? readClipL(shapes, slot.prefix) : readOpenClip(shapes, slot.prefix);
}

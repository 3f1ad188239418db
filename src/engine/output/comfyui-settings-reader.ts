/**
 * ComfyUI's `prompt` text: the API graph, `{ "<node id>": { "class_type": ..., "inputs": { ... } } }`, where an
 * input linked to another node's output is `["<node id>", <output index>]`. Each sampler node (KSampler,
 * KSamplerAdvanced and any node with positive and negative conditioning plus sampler settings) gives one set of
 * settings: its own widgets, the prompts found by following `positive`/`negative` back to text encoders, the
 * checkpoint and LoRAs found by following `model` back to the loader, and the size from the empty latent. Links are
 * followed with a depth limit and a visited set, so a cyclic or deep hostile graph ends.
 */
import { readNumber, readSeed, readSide, readSteps } from './generation-parameters.ts';
import { SettingsBuilder, UnreadableMetadataError, type ImportedLora, type SchemeReading, type SettingsCandidate } from './imported-settings.ts';
import { isRecord, type JsonRecord } from './metadata-json.ts';
import { mapSamplerName, mapSchedulerName } from './sampler-name-mapping.ts';

export const MAX_GRAPH_NODES = 5000;
const MAX_LINK_DEPTH = 64;
/** Inputs that hold a text encoder's words; `text_g`/`text_l` are CLIPTextEncodeSDXL's two encoders. */
const TEXT_INPUTS = ['text', 'text_g', 'text_l', 'string', 'value', 'prompt'];
const CONDITIONING_INPUTS = ['conditioning', 'conditioning_1', 'conditioning_2', 'conditioning_to', 'conditioning_from', 'positive', 'negative'];
/** Sampler widgets this reader maps; the rest of a sampler's inputs are listed as not applied. */
const SAMPLER_WIDGETS = new Set(['seed', 'noise_seed', 'steps', 'cfg', 'sampler_name', 'scheduler', 'denoise', 'model', 'positive', 'negative', 'latent_image']);

interface GraphNode {
  id: string;
  classType: string;
  inputs: JsonRecord;
}

/** The graph's settings, or null when the JSON is not a ComfyUI API graph. */
export function readComfyUiSettings(json: JsonRecord): SchemeReading | null {
  const nodes = new Map<string, GraphNode>();
  for (const [id, node] of Object.entries(json)) {
    if (!isRecord(node) || typeof node.class_type !== 'string') return null;
    if (nodes.size >= MAX_GRAPH_NODES) throw new UnreadableMetadataError('prompt', `graph has more than ${MAX_GRAPH_NODES} nodes`);
    nodes.set(id, { id, classType: node.class_type, inputs: isRecord(node.inputs) ? node.inputs : (Object.create(null) as JsonRecord) });
  }
  if (nodes.size === 0) return null;
  const graph = new Graph(nodes);
  const samplers = [...nodes.values()].filter(isSampler).sort((a, b) => Number(a.id) - Number(b.id) || a.id.localeCompare(b.id));
  const candidates: SettingsCandidate[] = samplers.map((node) => graph.readSampler(node));
  return { scheme: 'comfyui', tool: 'ComfyUI', candidates };
}

function isSampler(node: GraphNode): boolean {
  const i = node.inputs;
  return 'positive' in i && 'negative' in i && ('sampler_name' in i || 'steps' in i) && ('seed' in i || 'noise_seed' in i || 'cfg' in i);
}

function isLink(value: unknown): value is [string, number] {
  return Array.isArray(value) && value.length === 2 && (typeof value[0] === 'string' || typeof value[0] === 'number') && typeof value[1] === 'number';
}

class Graph {
  constructor(private readonly nodes: Map<string, GraphNode>) {}

  readSampler(node: GraphNode): SettingsCandidate {
    const b = new SettingsBuilder();
    const i = node.inputs;
    b.map('seed', this.scalar(i.seed ?? i.noise_seed), 'seed', (v) => readSeed('seed', v));
    b.map('steps', this.scalar(i.steps), 'steps', (v) => readSteps('steps', v));
    b.map('cfg', this.scalar(i.cfg), 'cfg', (v) => readNumber('cfg', v, 0, 100));
    b.map('sampler_name', this.scalar(i.sampler_name), 'sampler', (v) => mapSamplerName(String(v))?.sampler);
    b.map('scheduler', this.scalar(i.scheduler), 'scheduler', (v) => mapSchedulerName(String(v)) ?? undefined);
    // A denoise of 1 is plain text-to-image: nothing to set.
    const denoise = this.scalar(i.denoise);
    if (denoise !== 1) b.map('denoise', denoise, 'denoise', (v) => readNumber('denoise', v, 0, 1));
    b.settings.prompt = this.texts(i.positive).join('\n');
    b.settings.negativePrompt = this.texts(i.negative).join('\n');
    this.readModel(i.model, b);
    this.readLatent(i.latent_image, b);
    for (const [key, value] of Object.entries(i)) if (!SAMPLER_WIDGETS.has(key) && !isLink(value)) b.skip(key, value, 'has no equivalent here');
    return b.finish(`${node.classType} #${node.id}`);
  }

  /** A widget value, or the value of the primitive node it is linked to. */
  private scalar(value: unknown, depth = 0): unknown {
    if (!isLink(value)) return value;
    if (depth > MAX_LINK_DEPTH) return undefined;
    const node = this.nodes.get(String(value[0]));
    if (!node) return undefined;
    for (const key of ['value', 'seed', 'noise_seed', 'int', 'float', 'number', 'string', 'text', 'sampler_name', 'scheduler']) {
      if (key in node.inputs) return this.scalar(node.inputs[key], depth + 1);
    }
    return undefined;
  }

  /** Every text the conditioning link leads back to, in graph order (a combine node gives several). */
  private texts(link: unknown): string[] {
    const found: string[] = [];
    const seen = new Set<string>();
    const walk = (value: unknown, depth: number): void => {
      if (!isLink(value) || depth > MAX_LINK_DEPTH) return;
      const node = this.nodes.get(String(value[0]));
      if (!node || seen.has(node.id)) return;
      seen.add(node.id);
      const texts = TEXT_INPUTS.map((key) => this.scalar(node.inputs[key])).filter((t): t is string => typeof t === 'string');
      if (texts.length > 0 && /encode|prompt|text|string/i.test(node.classType)) {
        // CLIPTextEncodeSDXL holds the same words twice (one per encoder) as often as not.
        for (const text of texts) if (!found.includes(text)) found.push(text);
        return;
      }
      for (const key of CONDITIONING_INPUTS) walk(node.inputs[key], depth + 1);
    };
    walk(link, 0);
    return found;
  }

  /** Follows `model` back through LoRA loaders (collected in application order) to the checkpoint loader. */
  private readModel(link: unknown, b: SettingsBuilder): void {
    const loras: ImportedLora[] = [];
    let value = link;
    for (let depth = 0; isLink(value) && depth <= MAX_LINK_DEPTH; depth++) {
      const node = this.nodes.get(String(value[0]));
      if (!node) break;
      const i = node.inputs;
      const checkpoint = this.scalar(i.ckpt_name ?? i.unet_name ?? i.model_name);
      if (typeof checkpoint === 'string') {
        b.settings.model = checkpoint;
        break;
      }
      const lora = this.scalar(i.lora_name);
      if (typeof lora === 'string') {
        const strength = this.scalar(i.strength_model ?? i.strength);
        try {
          loras.unshift({ name: lora, weight: readNumber('strength_model', strength ?? 1, -100, 100) });
        } catch (error) {
          b.skip(`${node.classType} #${node.id}`, lora, error instanceof Error ? error.message : 'bad strength');
        }
      } else if (!/^(Reroute|ModelSampling|FreeU)/.test(node.classType)) {
        b.skip(`${node.classType} #${node.id}`, node.classType, 'changes the model in a way this project does not');
      }
      value = i.model;
    }
    if (loras.length > 0) b.settings.loras = loras;
  }

  /** Size from the empty latent the sampler starts from; an encoded image means image-to-image. */
  private readLatent(link: unknown, b: SettingsBuilder): void {
    let value = link;
    for (let depth = 0; isLink(value) && depth <= MAX_LINK_DEPTH; depth++) {
      const node = this.nodes.get(String(value[0]));
      if (!node) return;
      const i = node.inputs;
      if ('width' in i && 'height' in i && !('positive' in i)) {
        b.map('width', this.scalar(i.width), 'width', (v) => readSide('width', v));
        b.map('height', this.scalar(i.height), 'height', (v) => readSide('height', v));
        return;
      }
      if (/VAEEncode/.test(node.classType)) {
        b.skip(`${node.classType} #${node.id}`, node.classType, 'starts from an input image: set it as the input image here');
        return;
      }
      value = i.latent_image ?? i.samples ?? i.latent;
    }
  }
}

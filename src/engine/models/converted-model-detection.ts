/**
 * What a converted PyTorch file is, from its tensor names and shapes alone (configuration is detected from the
 * weights): an ESRGAN-family upscaler, Fooocus's inpaint head, Fooocus's inpaint patch, facexlib's RetinaFace
 * face detector (FaceSwap), or an IP-Adapter Plus published as a pickled nested dict (Fooocus's .bin copies,
 * `{ image_proj: {...}, ip_adapter: {...} }`, which flatten to the publisher's .safetensors keys). Used to file a
 * conversion under the right store kind and to refuse a file given the wrong `--kind`.
 */
import type { SafetensorsDtype } from '../io/safetensors-types.ts';

export type ConvertedModelRole = 'upscaler' | 'inpaint-head' | 'inpaint-patch' | 'face-detector' | 'ip-adapter';

export interface NamedTensorShape {
  name: string;
  dtype: SafetensorsDtype;
  shape: readonly number[];
}

/** BasicSR and Real-ESRGAN releases wrap their weights in one of these; the graph builders strip it too. */
const WRAPPERS = ['params_ema.', 'params.', 'state_dict.', 'model_state_dict.'];

/** RetinaFace (detection_Resnet50_Final.pth): a ResNet body with the three detection heads, maybe under `module.`. */
const FACE_DETECTOR_KEYS = ['body.conv1.weight', 'ClassHead.0.conv1x1.weight', 'BboxHead.0.conv1x1.weight', 'LandmarkHead.0.conv1x1.weight'];

/** IP-Adapter Plus: the Resampler's learned queries and the first cross-attention layer's extra key projection. */
const IP_ADAPTER_KEYS = ['image_proj.latents', 'image_proj.proj_in.weight', 'ip_adapter.1.to_k_ip.weight'];

/**
 * The upscaler key dialects: ESRGAN's original `model.N.…` layout (Fooocus's own file, with `residual_block_`
 * names), the `RRDB_trunk` / `body.N.rdbK` RRDBNet layouts, and the compact SRVGGNet's `body.N` convolutions.
 */
const UPSCALER_MARKERS = [/^model\.0\.weight$/, /^conv_first\.weight$/, /^RRDB_trunk\./, /^body\.\d+\.rdb\d\./, /^body\.0\.weight$/];

export function detectConvertedModelRole(tensors: readonly NamedTensorShape[]): ConvertedModelRole | null {
  if (tensors.length === 1 && tensors[0]!.name === 'head' && tensors[0]!.shape.length === 4 && tensors[0]!.shape[1] === 5) return 'inpaint-head';
  if (isInpaintPatch(tensors)) return 'inpaint-patch';
  const names = tensors.map((t) => stripWrapper(t.name));
  const unwrapped = new Set(tensors.map((t) => t.name.replace(/^module\./, '')));
  if (FACE_DETECTOR_KEYS.every((key) => unwrapped.has(key))) return 'face-detector';
  if (IP_ADAPTER_KEYS.every((key) => unwrapped.has(key))) return 'ip-adapter';
  if (names.some((n) => UPSCALER_MARKERS.some((m) => m.test(n)))) return 'upscaler';
  return null;
}

/** The patch's weights are (uint8 weight, min, max) triples under UNet keys: every U8 tensor is a `<key>.0`. */
function isInpaintPatch(tensors: readonly NamedTensorShape[]): boolean {
  const quantised = tensors.filter((t) => t.dtype === 'U8');
  if (quantised.length === 0 || !quantised.every((t) => t.name.endsWith('.0'))) return false;
  const names = new Set(tensors.map((t) => t.name));
  return quantised.every((t) => names.has(`${t.name.slice(0, -2)}.1`) && names.has(`${t.name.slice(0, -2)}.2`));
}

function stripWrapper(name: string): string {
  const wrapper = WRAPPERS.find((w) => name.startsWith(w));
  return wrapper === undefined ? name : name.slice(wrapper.length);
}

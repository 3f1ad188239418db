/**
 * Public engine API (`fooocus-ts/engine`). Importing this module has no side effects.
 */
export { detectCpuFeatures, parseCpuinfoFlags, type CpuFeatures } from './runtime/cpu-features.ts';
export { listExecutionProviders, onnxRuntimeVersion, type ExecutionProviderInfo } from './runtime/onnx-runtime.ts';
export { float16ToFloat32, float32ToFloat16Bits } from './io/half-float.ts';
export { InvalidSafetensorsError, MissingTensorError, PickleFormatError, type SafetensorsRule } from './io/safetensors-errors.ts';
export { parseSafetensorsHeader, readSafetensorsHeader, readTensorAsFloat32 } from './io/safetensors-reader.ts';
export {
  SAFETENSORS_DTYPE_BYTES,
  type SafetensorsDtype,
  type SafetensorsHeader,
  type TensorInfo,
  type TensorToWrite,
} from './io/safetensors-types.ts';
export { writeSafetensors } from './io/safetensors-writer.ts';
export { sha256File, type Sha256FileOptions } from './io/sha256.ts';

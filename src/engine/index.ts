/**
 * Public engine API (`fooocus-ts/engine`). Importing this module has no side effects.
 */
export { detectCpuFeatures, parseCpuinfoFlags, type CpuFeatures } from './runtime/cpu-features.ts';
export { listExecutionProviders, onnxRuntimeVersion, type ExecutionProviderInfo } from './runtime/onnx-runtime.ts';

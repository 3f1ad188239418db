/**
 * The one module that imports onnxruntime-node (a dependency-cruiser rule keeps it that way).
 * Everything else in the engine talks to ONNX Runtime through the functions exported here.
 */
import * as ort from 'onnxruntime-node';

export interface ExecutionProviderInfo {
  /** ONNX Runtime's id: `cpu`, `cuda`, `dml`, `coreml`, `webgpu`, `tensorrt`. */
  name: string;
  /** True when the provider's native library ships inside the installed package. */
  bundled: boolean;
}

/** The execution providers this build of onnxruntime-node knows about on this platform. */
export function listExecutionProviders(): ExecutionProviderInfo[] {
  return ort.listSupportedBackends().map((b) => ({ name: b.name, bundled: b.bundled }));
}

export function onnxRuntimeVersion(): string {
  return ort.env.versions.node ?? ort.env.versions.common;
}

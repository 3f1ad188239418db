/** Small ONNX models written with our own encoder, for the checker's tests: one good model and ways to spoil it. */
import { encodeOnnxModel, type OnnxGraph, type OnnxModel, type OnnxNode, type OnnxTensor } from '../../../src/engine/onnx/onnx-proto.ts';

export function floatTensor(name: string, dims: number[], values?: number[]): OnnxTensor {
  const count = dims.reduce((a, b) => a * b, 1);
  const data = Float32Array.from(values ?? Array.from({ length: count }, (_, i) => (i % 7) / 7 - 0.5));
  return { name, dtype: 'float32', dims, data: { kind: 'raw', bytes: new Uint8Array(data.buffer) } };
}

function node(opType: string, inputs: string[], outputs: string[], extra: Partial<OnnxNode> = {}): OnnxNode {
  return { opType, domain: '', name: `${opType}_${outputs[0]}`, inputs, outputs, attributes: {}, ...extra };
}

/** A branch graph for `If`: returns `x` scaled, optionally with one more `If` nested inside, `depth` levels. */
function branch(name: string, depth: number): OnnxGraph {
  const nodes: OnnxNode[] = [node('Mul', ['conv', 'scale'], [`${name}_out`])];
  if (depth > 0) {
    nodes.push(
      node('If', ['flag'], [`${name}_nested`], {
        attributes: { then_branch: { type: 'graph', value: branch(`${name}_t`, depth - 1) }, else_branch: { type: 'graph', value: branch(`${name}_e`, depth - 1) } },
      }),
    );
  }
  return { name, nodes, initializers: [], inputs: [], outputs: [{ name: `${name}_out`, dtype: 'float32', shape: [1, 2, 4, 4] }] };
}

/**
 * A valid model: `image` [1, 3, 4, 4] through a 1x1 Conv (inline weights), Relu, and an `If` on `flag` whose
 * branches nest `ifDepth` graphs deep; output `scores` [1, 2, 4, 4].
 */
export function buildCheckModel(opts: { ifDepth?: number; opset?: number } = {}): OnnxModel {
  const weight = floatTensor('conv.weight', [2, 3, 1, 1]);
  const scale = floatTensor('scale', [1], [0.5]);
  const flag: OnnxTensor = { name: 'flag', dtype: 'bool', dims: [], data: { kind: 'raw', bytes: new Uint8Array([1]) } };
  const nodes: OnnxNode[] = [
    node('Conv', ['image', 'conv.weight'], ['conv'], { attributes: { kernel_shape: { type: 'ints', value: [1, 1] } } }),
    node('If', ['flag'], ['branch'], {
      attributes: {
        then_branch: { type: 'graph', value: branch('then', Math.max(0, (opts.ifDepth ?? 1) - 1)) },
        else_branch: { type: 'graph', value: branch('else', 0) },
      },
    }),
    node('Relu', ['branch'], ['scores']),
  ];
  return {
    producer: 'test',
    opsets: { '': opts.opset ?? 17 },
    metadata: {},
    graph: {
      name: 'check',
      nodes,
      initializers: [weight, scale, flag],
      inputs: [{ name: 'image', dtype: 'float32', shape: ['batch', 3, 4, 4] }],
      outputs: [{ name: 'scores', dtype: 'float32', shape: ['batch', 2, 4, 4] }],
    },
  };
}

export function encode(model: OnnxModel): Uint8Array {
  return encodeOnnxModel(model);
}

/** The model with its main graph changed by `change`. */
export function withGraph(model: OnnxModel, change: (g: OnnxGraph) => OnnxGraph): OnnxModel {
  return { ...model, graph: change(model.graph) };
}

/**
 * What an ONNX file from outside may use: the operators of the standard `ai.onnx` domain and the opset and IR
 * versions this build's ONNX Runtime reads. Data, so a newer runtime is a change of numbers and names here.
 */

/** Opsets of the default domain accepted; ONNX Runtime supports none below 7, and 23 is the newest we have run. */
export const AI_ONNX_OPSETS = { min: 7, max: 23 } as const;

/** IR versions accepted: 3 introduced opset imports, 11 is the one that pairs with opset 23. */
export const ONNX_IR_VERSIONS = { min: 3, max: 11 } as const;

/** The default domain's names; '' and 'ai.onnx' are the same domain. */
export const STANDARD_DOMAINS: ReadonlySet<string> = new Set(['', 'ai.onnx']);

/**
 * Operators of the `ai.onnx` domain (training-only and experimental operators left out). `ImageDecoder` is left
 * out on purpose: decoding images is this project's own decoder's job, not native code reached through a model.
 */
export const STANDARD_OPERATORS: ReadonlySet<string> = new Set(
  `Abs Acos Acosh Add AffineGrid And ArgMax ArgMin Asin Asinh Atan Atanh Attention AveragePool BatchNormalization
  Bernoulli BitShift BitwiseAnd BitwiseNot BitwiseOr BitwiseXor BlackmanWindow Cast CastLike Ceil Celu CenterCropPad
  Clip Col2Im Compress Concat ConcatFromSequence Constant ConstantOfShape Conv ConvInteger ConvTranspose Cos Cosh
  CumSum DFT DeformConv DepthToSpace DequantizeLinear Det Div Dropout DynamicQuantizeLinear Einsum Elu Equal Erf Exp
  Expand EyeLike Flatten Floor GRU Gather GatherElements GatherND Gelu Gemm GlobalAveragePool GlobalLpPool
  GlobalMaxPool Greater GreaterOrEqual GridSample GroupNormalization HammingWindow HannWindow HardSigmoid HardSwish
  Hardmax Identity If InstanceNormalization IsInf IsNaN LRN LSTM LayerNormalization LeakyRelu Less LessOrEqual Log
  LogSoftmax Loop LpNormalization LpPool MatMul MatMulInteger Max MaxPool MaxRoiPool MaxUnpool Mean
  MeanVarianceNormalization MelWeightMatrix Min Mish Mod Mul Multinomial Neg NegativeLogLikelihoodLoss
  NonMaxSuppression NonZero Not OneHot Optional OptionalGetElement OptionalHasElement Or PRelu Pad Pow QLinearConv
  QLinearMatMul QuantizeLinear RMSNormalization RNN RandomNormal RandomNormalLike RandomUniform RandomUniformLike
  Range Reciprocal ReduceL1 ReduceL2 ReduceLogSum ReduceLogSumExp ReduceMax ReduceMean ReduceMin ReduceProd ReduceSum
  ReduceSumSquare RegexFullMatch Relu Reshape Resize ReverseSequence RoiAlign RotaryEmbedding Round STFT Scan Scatter
  ScatterElements ScatterND Selu SequenceAt SequenceConstruct SequenceEmpty SequenceErase SequenceInsert
  SequenceLength SequenceMap Shape Shrink Sigmoid Sign Sin Sinh Size Slice Softmax SoftmaxCrossEntropyLoss Softplus
  Softsign SpaceToDepth Split SplitToSequence Sqrt Squeeze StringConcat StringNormalizer StringSplit Sub Sum Tan Tanh
  TfIdfVectorizer ThresholdedRelu Tile TopK Transpose Trilu Unique Unsqueeze Upsample Where Xor`.split(/\s+/),
);

/**
 * Bytes per element of each TensorProto.DataType this build accepts (4-bit types count as half a byte); strings
 * (8) have no fixed size and are sized by their data.
 */
export const ONNX_ELEMENT_BYTES: ReadonlyMap<number, number> = new Map([
  [1, 4], [2, 1], [3, 1], [4, 2], [5, 2], [6, 4], [7, 8], [8, 0], [9, 1], [10, 2], [11, 8], [12, 4], [13, 8],
  [14, 8], [15, 16], [16, 2], [17, 1], [18, 1], [19, 1], [20, 1], [21, 0.5], [22, 0.5], [23, 0.5],
]);

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
export { encodeSafetensorsHeader, writeSafetensors, type TensorHeaderEntry } from './io/safetensors-writer.ts';
export { createBufferSource, openFileSource, type ByteSource, type FileSource } from './io/pickle/byte-source.ts';
export { readTorchCheckpoint, type TensorSource, type TorchCheckpoint, type TorchTensor } from './io/pickle/torch-checkpoint.ts';
export { TorchFileError, type TorchFileRule } from './io/pickle/torch-file-error.ts';
export { writeTorchTensorsAsSafetensors, type WriteTorchTensorsOptions } from './io/pickle/torch-safetensors-writer.ts';
export { sha256File, type Sha256FileOptions } from './io/sha256.ts';
export {
  createModelSession,
  ExecutionProviderUnavailableError,
  ModelSession,
  RunCancelledError,
  type ExecutionProvider,
  type RuntimeOptions,
} from './runtime/onnx-runtime.ts';
export type { CheckpointArchitecture, ClipTextConfig, ModelFamily, UnetConfig, VaeConfig } from './models/architecture.ts';
export { attentionHeads } from './models/architecture.ts';
export { UnsupportedCheckpointError } from './models/checkpoint-errors.ts';
export { detectConvertedModelRole, type ConvertedModelRole, type NamedTensorShape } from './models/converted-model-detection.ts';
export { FAMILY_PROFILES, getFamilyProfile, type FamilyProfile, type TextEncoderSlot } from './models/family-profiles.ts';
export {
  inspectCheckpoint,
  inspectHeader,
  type CheckpointInspection,
  type InspectCheckpointOptions,
  type ParameterCounts,
} from './models/inspect.ts';
export { loadCheckpoint, type CheckpointComponent, type LoadCheckpointOptions, type LoadedCheckpoint, type LoraApplyReport } from './pipeline/load-checkpoint.ts';
export { LoraFormatError, readLoraFile, type LoraFile, type LoraModule } from './lora/lora-file.ts';
export { LoraMismatchError, type WeightedLora } from './lora/lora-plan.ts';
export { canonicalModuleName, diffusersUnetPath } from './lora/lora-targets.ts';
export { buildClipTextGraph, type ClipTextGraphOptions } from './graphs/clip-text.ts';
export { buildUnetGraph, type UnetGraphOptions } from './graphs/unet.ts';
export { buildVaeDecoderGraph, buildVaeEncoderGraph } from './graphs/vae.ts';
export { CheckpointKeyError } from './onnx/graph-builder.ts';
export { encodeOnnxModel, type OnnxModel } from './onnx/onnx-proto.ts';
export {
  checkOnnxFile,
  checkOnnxModel,
  expectOnnxSignature,
  UnsafeOnnxModelError,
  type CheckedOnnxModel,
  type ExpectedOnnxValue,
  type OnnxCheckLimits,
} from './onnx/onnx-model-check.ts';
export { FaceDetector, type DetectedFace, type FaceDetectionOptions } from './face/face-detection.ts';
export { alignFace, cropFaceForFaceSwap, NoFaceFoundError, FACE_CROP_SIZE } from './face/face-alignment.ts';
export { detectRetinaFaceLayout, RetinaFaceLayoutError, type RetinaFaceLayout } from './face/retinaface-layout.ts';
export { chooseMask, InvalidBoxError, loadSegmenter, SegmentImageError, Segmenter, type SamImageEmbedding, type SegmentedMask, type SegmentOptions } from './segment/segmenter.ts';
export { detectSamLayout, SamLayoutError, type SamLayout } from './segment/sam-layout.ts';
export { fillSmallHoles, FOOOCUS_SAM_HOLE_AREA } from './segment/mask-holes.ts';
export type { SamBox, SamFrame } from './segment/sam-image-frame.ts';
export { GroundingDino, loadGroundingDino, type GroundedBox, type GroundingThresholds, type GroundingRawOutputs } from './detect/grounding-dino.ts';
export { DEFAULT_GROUNDING_THRESHOLDS } from './detect/grounding-dino-boxes.ts';
export { detectGroundingDinoLayout, GroundingDinoLayoutError, type GroundingDinoLayout } from './detect/grounding-dino-layout.ts';
export type { GroundingTokenizer } from './detect/grounding-dino-text.ts';
export { createTensor, type Int64Tensor, type Tensor } from './tensor.ts';
export type { Denoiser, SampleContext, Sampler } from './sampling/sampler-types.ts';
export {
  getSampler,
  resolveSamplerName,
  SAMPLER_ALIASES,
  SAMPLER_NAMES,
  SAMPLERS_DISCARDING_PENULTIMATE_SIGMA,
  type SamplerName,
} from './sampling/samplers/sampler-registry.ts';
export { encodePrompt, type PromptConditioning, type TextEncoder } from './pipeline/prompt-encoding.ts';
export { ClipTokenizer } from './text/clip-tokenizer.ts';
export { parsePromptWeights, type WeightedSegment } from './text/prompt-weights.ts';
export { CLIP_WINDOW_LENGTH, tokenizeWeighted, type PadToken, type TokenizeWeightedOptions, type TokenWindow } from './text/token-windows.ts';
export { Mt19937 } from './random/mt19937.ts';
export { parseTorchSeed, randomSeed, torchRandn, TorchGenerator } from './random/torch-randn.ts';
export {
  buildDistilledSigmaTable,
  buildScaledLinearSigmaTable,
  getLcmSigmaTable,
  getSdSigmaTable,
  getSigmaMax,
  getSigmaMin,
  sigmaToContinuousTimestep,
  sigmaToTimestep,
  timestepToSigma,
  type DiscreteSigmaTable,
  type ScaledLinearOptions,
} from './sampling/sigma-table.ts';
export { getSigmas, isSchedulerName, MAX_STEPS, SCHEDULER_NAMES, type SchedulerName, type SigmaOptions } from './sampling/sigmas.ts';
export { AYS_NOISE_LEVELS, type AysFamily } from './sampling/schedules/align-your-steps.ts';
export {
  adaptiveAnisotropicFilter,
  buildGaussianWindow,
  FOOOCUS_ANISOTROPIC_OPTIONS,
  jointBilateralBlur,
  reflectIndex,
  standardizeGuidance,
  type BilateralBlurOptions,
} from './guidance/anisotropic-filter.ts';
export { computeDiffusionProgress, MAX_TRAINING_TIMESTEP } from './guidance/diffusion-progress.ts';
export { applySharpness, computeEps, SHARPNESS_ALPHA_SCALE } from './guidance/sharpness.ts';
export { combineCfg, DEFAULT_ADAPTIVE_CFG } from './guidance/adaptive-cfg.ts';
export {
  DEFAULT_ADM_SCALER_END,
  DEFAULT_ADM_SCALER_NEGATIVE,
  DEFAULT_ADM_SCALER_POSITIVE,
  encodeFooocusSdxlAdm,
  encodeSdxlAdm,
  encodeSdxlRefinerAdm,
  fourierEmbed,
  REFINER_NEGATIVE_AESTHETIC_SCORE,
  REFINER_POSITIVE_AESTHETIC_SCORE,
  roundToMultipleOf64,
  scaledAdmSizes,
  SDXL_ADM_EMBED_DIM,
  selectAdm,
  type FooocusAdmInput,
  type FooocusAdmPair,
  type SdxlAdmInput,
  type SdxlRefinerAdmInput,
} from './guidance/sdxl-adm.ts';
export { LATENT_RGB_MAPS, previewLatentToRgb, type LatentRgbMap, type PreviewFamily, type PreviewImage } from './guidance/latent-preview.ts';
export { InvalidImageError, type ImageProblem } from './output/image-errors.ts';
export { decodePng, DEFAULT_MAX_PIXELS, encodePng, type DecodeImageOptions } from './output/png.ts';
export { readPngTextChunks } from './output/png-text.ts';
export {
  decodeImage,
  DEFAULT_QUALITY,
  detectImageFormat,
  encodeImage,
  readImageFile,
  readImageMetadata,
  type EncodeImageOptions,
  type ImageFormat,
  type ReadImageFileOptions,
} from './output/image-encoding.ts';
export {
  InvalidMetadataError,
  type GenerationParameters,
  type InputImageParameters,
  type EnhanceRecord,
  type EnhanceTabRecord,
  type LoraReference,
  type OutpaintSide,
} from './output/generation-parameters.ts';
export { FOOOCUS_SCHEME, formatFooocusJson } from './output/fooocus-metadata-scheme.ts';
export { A1111_SCHEME, formatA1111Parameters } from './output/a1111-metadata-scheme.ts';
export { MAX_METADATA_BYTES, parseGenerationMetadata, type MetadataScheme } from './output/generation-metadata.ts';
export { formatA1111SamplerName, parseA1111SamplerName, parseA1111ScheduleType } from './output/sampler-display-names.ts';
export { readImageMetadataReport, recogniseScheme, type ImageMetadataReport } from './output/image-metadata-report.ts';
export {
  UnreadableMetadataError,
  type ImportedSettings,
  type MetadataField,
  type MetadataSchemeId,
  type NotAppliedField,
  type SettingsCandidate,
} from './output/imported-settings.ts';
export type { RgbImage } from './rgb-image.ts';
export {
  generate,
  planJobComponents,
  preparePipelineModel,
  type GeneratedImage,
  type GenerateOptions,
  type GenerationPhase,
  type GenerationProgress,
  type PipelineModel,
  type PipelineControls,
  type PipelineModels,
} from './pipeline/generate.ts';
export { loadControlNet, type ControlNetModel } from './pipeline/control-lora-model.ts';
export { MEMORY_MODES, measureComponentBytes, planPhaseComponents, unionOfPhases, type ComponentHost, type JobShape, type MemoryMode, type PhaseComponents } from './pipeline/component-residency.ts';
export { checkVaeFamily, inspectVaeHeader, loadVae, VaeMismatchError, type LoadedVae, type LoadVaeOptions, type VaeCodec } from './pipeline/load-vae.ts';
export {
  IMAGE_SIZE_LIMITS,
  InvalidGenerationRequestError,
  MAX_SEED,
  MAX_IMAGES_PER_REQUEST,
  MAX_PROMPT_CHARS,
  validateGenerationRequest,
  type GenerationRequest,
} from './pipeline/generation-request.ts';
export { IMAGE_PROMPT_LIMITS, INPUT_IMAGE_LIMITS, REFINER_SWITCH_METHODS, SETTING_LIMITS, type RefinerSwitchMethod } from './request-limits.ts';
export type { AdmScalers } from './pipeline/stage-conditioning.ts';
export { decodeLatent, encodeToLatent, encodeToLatentTiled, type TileOptions } from './pipeline/vae-codec.ts';
export { resampleLanczos } from './upscale/lanczos-resample.ts';
export { countUpscalerMacs, detectUpscalerLayout, UpscalerLayoutError, type RrdbLayout, type SrvggLayout, type UpscalerLayout } from './upscale/upscaler-layout.ts';
export { loadUpscaler, type LoadedUpscaler } from './upscale/load-upscaler.ts';
export { DEFAULT_UPSCALE_OVERLAP, DEFAULT_UPSCALE_TILE, upscaleImage, type UpscaleOptions } from './upscale/tiled-upscale.ts';
export { buildUpscalerGraph } from './graphs/upscaler.ts';
export { listCheckpointTensors, type LayoutExtras, type TensorSpec } from './models/checkpoint-layout.ts';
export { generateRandomCheckpoint } from './models/random-checkpoint.ts';
export { ERROR_KINDS, FooocusError, isUserError, reviveError, RevivedError, toErrorData, type ErrorData, type ErrorDetails, type ErrorKind } from './errors/fooocus-error.ts';
export { INPAINT_ENGINE_NAMES, inpaintResultSize, type GreyMask, type InpaintEngineName, type InpaintSettings, type OutpaintPadding } from './inpaint/inpaint-settings.ts';
export { erodeOrDilateMask, invertMask, isMaskEmpty, maskFromImage } from './inpaint/grey-mask.ts';
export { MAX_MASK_ERODE, prepareMask as prepareInpaintMask, WORKING_SIZE_LIMITS } from './inpaint/inpaint-rules.ts';
export { checkInpaintFileLayout, InpaintModelError, readInpaintHead, readInpaintPatch, type InpaintHead } from './inpaint/inpaint-models.ts';
export { InpaintEngineError } from './inpaint/inpaint-plan.ts';
export { readMaskFile } from './output/mask-image.ts';
export {
  IMAGE_PROMPT_TYPES,
  isGuidanceActive,
  type AdapterKeysValues,
  type AdapterPromptType,
  type ControlHint,
  type ControlMap,
  type ControlPromptType,
  type GuidanceWindow,
  type ImagePromptEmbedding,
  type ImagePromptType,
} from './pipeline/image-guidance.ts';
export { CONTROL_PROMPT_TYPES, computeControlMap, grayToRgb } from './control/control-map.ts';
export type { GrayImage } from './control/gray-image.ts';
export { ipAdapterLayerOrder } from './graphs/decoupled-attention.ts';
export { ImagePromptModelError } from './ip-adapter/image-prompt-model-error.ts';
export { checkAdapterFitsUnet, loadImagePromptEncoder, type ImagePromptEncoder, type ImagePromptModelFiles } from './ip-adapter/image-prompt-encoder.ts';
export { INPAINT_ENGINE_LABELS, INPAINT_METHOD_LABELS, readInputImageChoices, RECORDED_OUTPAINT_SIDES, UOV_METHOD_LABELS, type RecordedInputImageChoices } from './output/input-image-choices.ts';
export type { DescribedTag, DescribeOptions, DescribeProgress, ImageDescriber, ImageDescription } from './describe/image-describer.ts';
export { loadWd14Tagger, prepareWd14Input, selectWd14Tags, formatWd14Tags, WD14_INPUT_SIZE, WD14_THRESHOLDS, type LoadWd14TaggerOptions, type Wd14TaggerFiles, type Wd14Thresholds } from './describe/wd14-tagger.ts';
export { parseTagList, readTagListFile, TagListFormatError, type TaggerTag, type TaggerTagCategory } from './describe/tagger-tag-list.ts';
export { BlipCaptioner, CAPTION_DEFAULTS, CAPTION_PROMPT, type BlipFiles, type CaptionOptions } from './describe/blip-captioner.ts';
export { BlipLayoutError, detectBlipLayout, type BlipConfig } from './describe/blip-layout.ts';
export { VocabularyFormatError, WordPieceTokenizer } from './text/word-piece.ts';
export type { RegionDetection, RegionDetector, RegionQuery } from './segment/region-detector.ts';
export { binariseMask, checkForegroundSignature, classifyForegroundPrompt, ForegroundMaskModel, FOREGROUND_INPUT_SIZES, type ForegroundSignature } from './segment/foreground-mask.ts';
export { mergeSegmentedMasks, TextRegionDetector, type BoxFinder, type BoxSegmenter } from './segment/text-region-detector.ts';

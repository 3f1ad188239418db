import {
  attentionHeads,
  inspectCheckpoint,
  InvalidSafetensorsError,
  PickleFormatError,
  UnsupportedCheckpointError,
  type CheckpointInspection,
  type ClipTextConfig,
  type UnetConfig,
  type VaeConfig,
} from '../../engine/index.ts';
import { UsageError, type CommandContext } from '../command.ts';

/** Below this size hashing takes well under a second, so a progress line would only flicker. */
const PROGRESS_MIN_BYTES = 64 * 1024 * 1024;
const PROGRESS_INTERVAL_MS = 250;

function millions(n: number): string {
  return `${(n / 1e6).toFixed(2)}M`;
}

function list(values: readonly number[]): string {
  return `[${values.join(', ')}]`;
}

function describeUnet(u: UnetConfig): string[] {
  const heads = 'numHeads' in u.attention ? `${u.attention.numHeads} heads` : `head width ${u.attention.headChannels}`;
  const deepest = u.modelChannels * u.channelMult[u.channelMult.length - 1]!;
  return [
    `UNet           in ${u.inChannels}, out ${u.outChannels}, ${u.modelChannels} channels x ${list(u.channelMult)}, res blocks ${list(u.numResBlocks)}`,
    `  transformers input ${list(u.inputTransformerDepth)}, middle ${u.middleTransformerDepth}, output ${list(u.outputTransformerDepth)}`,
    `  attention    ${heads} (${attentionHeads(u, deepest)} at ${deepest} channels), context ${u.contextDim}, ` +
      `${u.linearProjection ? 'linear' : '1x1 conv'} projections, ADM ${u.admInChannels ?? 'none'}`,
  ];
}

function describeText(t: ClipTextConfig, index: number): string {
  const projection = t.projectionDim === null ? '' : `, projection ${t.projectionDim}`;
  return (
    `Text encoder ${index + 1} ${t.layout} (${t.prefix}): ${t.layers} layers, width ${t.width}, ${t.heads} heads, MLP ${t.mlpWidth}, ` +
    `vocab ${t.vocabSize}, ${t.maxPositions} positions, ${t.activation}${projection}`
  );
}

function describeVae(v: VaeConfig): string {
  const halves = [v.hasEncoder ? 'encoder' : null, v.hasDecoder ? 'decoder' : null].filter((h) => h !== null).join(' + ');
  return (
    `VAE            ${halves}: ${v.baseChannels} channels x ${list(v.channelMult)}, ${v.numResBlocks} res blocks, ` +
    `latent ${v.latentChannels}, image ${v.imageChannels}, mid attention as ${v.attentionAsLinear ? 'linears' : '1x1 convs'}`
  );
}

export function formatInspection(r: CheckpointInspection): string {
  const a = r.architecture;
  const components = [a.unet === null ? null : 'UNet', ...a.textEncoders.map((t) => t.layout), a.vae === null ? null : 'VAE'];
  const p = r.parameterCounts;
  const dtypes = Object.entries(r.dtypes).map(([d, n]) => `${d} ${n}`).join(', ');
  const metadata = Object.keys(r.metadata);
  return [
    `File           ${r.file} (${(r.fileSize / 1e6).toFixed(1)} MB)`,
    `Family         ${a.family}`,
    `Inpaint        ${a.inpaint ? 'yes' : 'no'}`,
    `Components     ${components.filter((c) => c !== null).join(', ')}`,
    ...(a.unet === null ? [] : describeUnet(a.unet)),
    ...a.textEncoders.map(describeText),
    ...(a.vae === null ? [] : [describeVae(a.vae)]),
    `Tensors        ${r.tensorCount} (${dtypes})`,
    `Parameters     ${millions(p.total)} total: UNet ${millions(p.unet)}, text ${p.textEncoders.map(millions).join(' + ') || '0'}, ` +
      `VAE ${millions(p.vae)}, other ${millions(p.other)}`,
    `SHA-256        ${r.sha256 ?? 'not computed'}`,
    `Metadata       ${metadata.length === 0 ? 'none' : metadata.join(', ')}`,
  ].join('\n');
}

/** A percentage and throughput line on a TTY, redrawn in place at most every PROGRESS_INTERVAL_MS. */
function createHashProgress(stderr: NodeJS.WritableStream): { update(done: number, total: number): void; finish(): void } {
  const started = Date.now();
  let lastDraw = 0;
  let drawn = false;
  return {
    update(done, total) {
      const now = Date.now();
      if (total < PROGRESS_MIN_BYTES || (now - lastDraw < PROGRESS_INTERVAL_MS && done < total)) return;
      lastDraw = now;
      drawn = true;
      const rate = done / 1e6 / Math.max((now - started) / 1000, 1e-3);
      stderr.write(`\rhashing ${((100 * done) / total).toFixed(0).padStart(3)}%  ${rate.toFixed(0)} MB/s `);
    },
    finish() {
      if (drawn) stderr.write('\r\x1b[K');
    },
  };
}

/** Errors that mean "this file cannot be used", as opposed to bugs: one line and exit code 2. */
function describeBadFile(err: unknown, file: string): string | null {
  if (err instanceof InvalidSafetensorsError || err instanceof PickleFormatError || err instanceof UnsupportedCheckpointError) {
    return err.message.replace(/\s*\n\s*/g, ' ');
  }
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT') return `${file}: file not found`;
  if (code === 'EISDIR') return `${file}: is a directory`;
  if (code === 'EACCES' || code === 'EPERM') return `${file}: permission denied`;
  return null;
}

/** `fooocus inspect <file> [--json]`: family, architecture, counts and SHA-256 of a checkpoint. */
export async function runInspect(ctx: CommandContext): Promise<number> {
  const { values, positionals } = ctx.parse({ json: { type: 'boolean', default: false } });
  if (positionals.length !== 1) throw new UsageError('inspect takes exactly one checkpoint file: npm run fooocus -- inspect <file> [--json]');
  const file = positionals[0]!;
  const progress = (ctx.stderr as NodeJS.WriteStream).isTTY === true ? createHashProgress(ctx.stderr) : null;
  let inspection: CheckpointInspection;
  try {
    inspection = await inspectCheckpoint(file, { onHashProgress: progress?.update, signal: ctx.signal });
  } catch (err) {
    progress?.finish();
    const reason = describeBadFile(err, file);
    if (reason === null) throw err;
    ctx.stderr.write(`error: ${reason}\n`);
    return 2;
  }
  progress?.finish();
  ctx.stdout.write((values.json ? JSON.stringify(inspection, null, 2) : formatInspection(inspection)) + '\n');
  return 0;
}

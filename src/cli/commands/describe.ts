/**
 * `fooocus describe IMG [--type photo|anime] [--json]`: Describe, image to prompt, with the same use case as the
 * studio's Describe button: the type's files verified through the model store, then its describer run on the image.
 * The prompt goes to stdout (or a JSON object with `--json`); progress goes to stderr.
 */
import { stat } from 'node:fs/promises';
import { readImageFile } from '../../engine/index.ts';
import { ImageDescribers } from '../../app/describe/describe-image.ts';
import { createDescriberRegistry, DESCRIBE_TYPE_LABELS, DESCRIBE_TYPES, isDescribeType } from '../../app/describe/describer-registry.ts';
import { openModelStore } from '../../app/models/model-store.ts';
import { UsageError, type CommandContext } from '../command.ts';
import { CONFIG_OPTIONS, loadCommandConfig } from '../command-config.ts';
import { ProgressReporter } from '../progress-reporter.ts';

export const DESCRIBE_OPTIONS = {
  help: { type: 'boolean', short: 'h', default: false },
  type: { type: 'string', default: 'photo' },
  json: { type: 'boolean', default: false },
  ...CONFIG_OPTIONS,
} as const;

export const DESCRIBE_USAGE = [
  'Usage: npm run fooocus -- describe IMG [--type photo|anime] [--json]',
  '',
  'Describe, as Fooocus\'s Describe tab: a prompt for the image.',
  '  --type photo   Photograph: the BLIP captioner (default, as Fooocus)',
  '  --type anime   Art/Anime: the WD14 tagger (clip_vision/wd-v1-4-moat-tagger-v2.onnx and .csv)',
  '  --json         {"type", "text", "tags"} on stdout instead of the text',
  '  --models DIR  --config FILE  --insecure-permissions',
].join('\n');

/** Larger files are no image anyone describes; refusing them keeps a typo from reading a disk image into memory. */
const MAX_FILE_BYTES = 512 * 1024 * 1024;

export async function runDescribe(ctx: CommandContext): Promise<number> {
  const { values, positionals } = ctx.parse(DESCRIBE_OPTIONS);
  if (values.help) {
    ctx.stdout.write(DESCRIBE_USAGE + '\n');
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('describe takes exactly one image: npm run fooocus -- describe photo.png [--type photo|anime]');
  const type = values.type.toLowerCase();
  if (!isDescribeType(type)) throw new UsageError(`--type must be one of ${DESCRIBE_TYPES.join(', ')}, got "${values.type}"`);
  const file = positionals[0]!;
  const size = await stat(file).then(
    (s) => (s.isFile() ? s.size : -1),
    () => -1,
  );
  if (size < 0) throw new UsageError(`${file}: no such file`);
  if (size > MAX_FILE_BYTES) throw new UsageError(`${file}: ${size} bytes is over the ${MAX_FILE_BYTES}-byte limit for an image`);

  const { config } = await loadCommandConfig(ctx, { config: values.config, models: values.models, 'insecure-permissions': values['insecure-permissions'] });
  const describers = new ImageDescribers(await openModelStore(config.paths.models), createDescriberRegistry(), {
    executionProvider: config.runtime.executionProvider,
    ...(config.runtime.threads > 0 ? { threads: config.runtime.threads } : {}),
  });
  const reporter = new ProgressReporter(ctx.stderr, (ctx.stderr as NodeJS.WriteStream).isTTY === true ? 'tty' : 'json');
  try {
    // The installed check comes first, so a missing describer is named before the image is decoded.
    await describers.checkInstalled(type);
    const image = await readImageFile(file);
    const result = await describers.describe(type, image, {
      signal: ctx.signal,
      onProgress: (p) => reporter.update({ label: `${DESCRIBE_TYPE_LABELS[type]}: ${p.phase}`, done: p.step, total: p.total }),
    });
    reporter.finishLine();
    ctx.stdout.write((values.json ? JSON.stringify(result) : result.text) + '\n');
    return 0;
  } finally {
    await describers.release();
  }
}

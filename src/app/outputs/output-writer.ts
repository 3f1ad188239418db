/**
 * Saves generated images into the outputs directory, one folder per day as Fooocus does, with the generation
 * parameters embedded (Fooocus JSON or AUTOMATIC1111 text). A file appears under its final name only when
 * complete, and an existing file is never overwritten.
 */
import { createHash, randomBytes } from 'node:crypto';
import { link, mkdir, open, rm } from 'node:fs/promises';
import path from 'node:path';
import {
  A1111_SCHEME,
  encodeImage,
  FOOOCUS_SCHEME,
  formatA1111Parameters,
  formatFooocusJson,
  type GenerationParameters,
  type ImageFormat,
  type RgbImage,
} from '../../engine/index.ts';

/** The schemes an image's metadata can be written in: Fooocus's JSON and AUTOMATIC1111's text. */
export const METADATA_SCHEMES = [FOOOCUS_SCHEME, A1111_SCHEME] as const;
export type MetadataSchemeName = (typeof METADATA_SCHEMES)[number];

export interface SaveImageOptions {
  format: ImageFormat;
  scheme: MetadataSchemeName;
  quality?: number;
  software: string;
  /** Clock, injectable for tests. */
  now?: Date;
  /**
   * Marks the file (and its temporary file) as made for this job id (22 base64url characters), so files a killed
   * process left behind can be told from the CLI's and removed (output-sweep.ts).
   */
  jobTag?: string;
}

/** A saved image: where it is and the SHA-256 of the bytes written, recorded so later changes can be seen. */
export interface SavedFile {
  path: string;
  sha256: string;
}

/** `<time>_<seed>[_n].<job id>.<ext>` and `.<job id>.<hex>.tmp`: the names a job's files carry. */
export const JOB_TAGGED_OUTPUT = /^(?:\.([A-Za-z0-9_-]{22})\.[0-9a-f]{12}\.tmp|[^.]+\.([A-Za-z0-9_-]{22})\.(?:png|jpg|webp))$/;

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/** `2026-11-22` and `2026-11-22_08-31-05`, in local time like Fooocus's folders and names. */
function stamps(now: Date): { day: string; time: string } {
  const day = `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
  return { day, time: `${day}_${pad(now.getHours())}-${pad(now.getMinutes())}-${pad(now.getSeconds())}` };
}

export function formatMetadata(parameters: GenerationParameters, scheme: MetadataSchemeName, software: string): Record<string, string> {
  const text = scheme === FOOOCUS_SCHEME ? formatFooocusJson(parameters) : formatA1111Parameters(parameters);
  return { parameters: text, fooocus_scheme: scheme, Software: software };
}

/** Writes the encoded image to a temporary file, then links it to a fresh final name (never clobbering). */
export async function saveImage(outputsDir: string, image: RgbImage, parameters: GenerationParameters, options: SaveImageOptions): Promise<SavedFile> {
  const { day, time } = stamps(options.now ?? new Date());
  const dir = path.join(outputsDir, day);
  await mkdir(dir, { recursive: true, mode: 0o750 });
  const bytes = await encodeImage(image.rgb, image.width, image.height, {
    format: options.format,
    metadata: formatMetadata(parameters, options.scheme, options.software),
    ...(options.quality === undefined ? {} : { quality: options.quality }),
  });
  const ext = options.format === 'jpeg' ? 'jpg' : options.format;
  const tag = options.jobTag === undefined ? '' : `.${options.jobTag}`;
  const tmp = path.join(dir, `${tag === '' ? '' : tag}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', 0o640);
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    for (let attempt = 0; attempt < 100; attempt++) {
      const final = path.join(dir, `${time}_${parameters.seed}${attempt === 0 ? '' : `_${attempt}`}${tag}.${ext}`);
      try {
        await link(tmp, final);
        return { path: final, sha256: createHash('sha256').update(bytes).digest('hex') };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    throw new Error(`could not find a free file name in ${dir}`);
  } finally {
    await rm(tmp, { force: true });
  }
}

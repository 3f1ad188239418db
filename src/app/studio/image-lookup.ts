/**
 * Where an image a client asks for by id lies: an upload of the owner's, or an output of one of the owner's jobs.
 * Another owner's image and a missing one are the same answer (null), so ids cannot be probed.
 */
import { isUploadId, parseOutputImageId } from '../outputs/image-ids.ts';
import { ANY_OWNER, type OwnerScope } from '../jobs/job-types.ts';
import type { Studio } from './create-studio.ts';

const CONTENT_TYPES: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', webp: 'image/webp' };

export async function findStudioImage(studio: Studio, scope: OwnerScope, imageId: string): Promise<{ absolutePath: string; contentType: string } | null> {
  let file: string | null | undefined = null;
  const jobId = parseOutputImageId(imageId);
  if (isUploadId(imageId)) file = await studio.uploads.find(scope === ANY_OWNER ? null : scope, imageId);
  else if (jobId !== null) file = (await studio.queue.get(jobId, scope).catch(() => null))?.results.find((r) => r.imageId === imageId)?.file;
  if (file === null || file === undefined) return null;
  const absolutePath = await studio.resolveOutput(file).catch(() => null);
  if (absolutePath === null) return null;
  return { absolutePath, contentType: CONTENT_TYPES[file.slice(file.lastIndexOf('.') + 1).toLowerCase()] ?? 'application/octet-stream' };
}

/**
 * How a Redis worker runs a job: the studio's own executor (image after image in a restricted inference process),
 * on one of the worker's inference processes, with the images the studio sent along (its input, a mask, its image
 * prompts' images) instead of
 * reading uploads it does not have, and the job's pinned checkpoint for a request stored without one.
 */
import { FooocusError } from '../../engine/index.ts';
import { greyFromRgb } from '../../engine/output/mask-image.ts';
import type { RgbImage } from '../../engine/index.ts';
import type { RemoteJobExecutor } from '../jobs/redis-job-worker.ts';
import { decodeAttachment, type RemoteJob } from '../jobs/remote-job-protocol.ts';
import type { InferenceWorker } from '../worker/inference-worker.ts';
import { createStudioExecutor } from './studio-executor.ts';

export interface RemoteJobExecutorOptions {
  /** One inference process per job that may run at once (the worker's concurrency). */
  pool: readonly InferenceWorker[];
  outputsDir: string;
  sweepOutputs?: () => Promise<void>;
}

export function createRemoteJobExecutor(options: RemoteJobExecutorOptions): RemoteJobExecutor {
  const free = [...options.pool];
  return async (job, execution, remote) => {
    const worker = free.pop();
    // BullMQ runs at most `concurrency` jobs at once and the pool has that many processes.
    if (worker === undefined) throw new Error('no free inference process: the worker ran more jobs than its concurrency');
    try {
      const checkpoint = remote.models.find((pin) => pin.kind === 'checkpoints')?.name;
      const executor = createStudioExecutor({
        worker,
        outputsDir: options.outputsDir,
        defaultModel: async () => {
          if (checkpoint === undefined) throw new FooocusError('not-found', 'the job names no checkpoint', { field: 'model' });
          return checkpoint;
        },
        readInput: async (file) => readAttachment(remote, file, 'input'),
        readMask: async (file) => {
          const image = readAttachment(remote, file, 'inpaint.mask');
          return greyFromRgb(image.rgb, image.width, image.height);
        },
        readImagePrompts: (request) =>
          (request.imagePrompts ?? []).map((p, i) => {
            const attachment = remote.attachments.find((a) => a.file === p.file);
            if (attachment === undefined) throw new FooocusError('not-found', `the image ${JSON.stringify(p.file)} the request reads was not sent with the job`, { field: `imagePrompts[${i}]` });
            return { file: p.file, image: decodeAttachment(attachment), ...(attachment.sha256 === undefined ? {} : { sha256: attachment.sha256 }) };
          }),
        ...(options.sweepOutputs === undefined ? {} : { sweepOutputs: options.sweepOutputs }),
      });
      return await executor(job, execution);
    } finally {
      free.push(worker);
    }
  };
}

/** An image the studio sent with the job (decoded there through its upload checks), by the file the request names. */
function readAttachment(remote: RemoteJob, file: string, field: string): RgbImage {
  const attachment = remote.attachments.find((a) => a.file === file);
  if (attachment === undefined) throw new FooocusError('not-found', `the image ${JSON.stringify(file)} the request reads was not sent with the job`, { field });
  return decodeAttachment(attachment);
}

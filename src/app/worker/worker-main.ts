/**
 * Entry point of the inference process (forked by InferenceWorker). It runs the generation use case on the
 * requests the queue stored, verifying models through the store; everything it knows arrives in its first
 * argument (settings as JSON), nothing from the environment.
 */
import { toErrorData } from '../../engine/index.ts';
import { loadCreativeData, readShippedCatalog } from '../creative/creative-data.ts';
import { ImageDescribers } from '../describe/describe-image.ts';
import { createDescriberRegistry } from '../describe/describer-registry.ts';
import { createImageGenerator } from '../generation/generate-images.ts';
import { GenerationService, int8CacheDir, type ServiceProgress } from '../generation/generation-service.ts';
import { createTokenizerLoader } from '../generation/tokenizer-selection.ts';
import { openModelStore } from '../models/model-store.ts';
import type { FromWorker, ToWorker, WorkerSettings } from './worker-protocol.ts';

async function main(argv: readonly string[]): Promise<void> {
  const settings = JSON.parse(argv[2] ?? '{}') as WorkerSettings;
  const send = (message: FromWorker): void => {
    // Once the server has disconnected nobody is listening: a late progress or result is dropped, not an EPIPE crash.
    if (process.connected) process.send?.(message, undefined, {}, () => undefined);
  };

  const store = await openModelStore(settings.modelsDir);
  // The server logged any catalog problem when it started; here it only means preset ids stay file names.
  const data = await loadCreativeData({ store, catalog: await readShippedCatalog(() => undefined) });
  const service = new GenerationService({
    runtime: { executionProvider: settings.executionProvider, ...(settings.threads > 0 ? { threads: settings.threads } : {}) },
    outputsDir: settings.outputsDir,
    ...(settings.precision === 'int8' ? { int8CacheDir: int8CacheDir(settings.cacheDir) } : {}),
    ...(settings.precision === 'fp16' ? { float16: true } : {}),
    software: settings.software,
    ...(settings.memory === undefined ? {} : { memory: settings.memory }),
    loadTokenizer: createTokenizerLoader(store),
  });
  // Kept loaded between jobs like the generation models; a `describeFirst` job or Describe loads its describer on first use.
  const describers = new ImageDescribers(store, createDescriberRegistry(), { executionProvider: settings.executionProvider, ...(settings.threads > 0 ? { threads: settings.threads } : {}) });
  const generateImage = createImageGenerator({ store, data, service, inputDir: settings.outputsDir, describers });
  const running = new Map<number, AbortController>();
  const reportProgress = (id: number, progress: ServiceProgress): void => {
    // The memory mode goes to the server's log (this process's stderr is the server's) as well as to the job.
    if (progress.phase === 'memory') process.stderr.write(`inference worker: ${progress.message}\n`);
    send({ type: 'progress', id, progress });
  };

  /** Runs one request under its own cancel signal and sends its reply, or its failure as data. */
  async function answer(id: number, work: (signal: AbortSignal) => Promise<FromWorker>): Promise<void> {
    const controller = new AbortController();
    running.set(id, controller);
    try {
      send(await work(controller.signal));
    } catch (err) {
      const error = toErrorData(err);
      send({ type: 'failed', id, error, cancelled: controller.signal.aborted });
      if (error.kind === 'internal' && !controller.signal.aborted) process.stderr.write(`inference worker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    } finally {
      running.delete(id);
    }
  }

  const runJob = ({ id, request, imageIndex, input, mask, imagePromptImages, jobTag }: Extract<ToWorker, { type: 'generate' }>) =>
    answer(id, async (signal) => {
      const image = await generateImage(request, imageIndex, { signal, onProgress: (progress) => reportProgress(id, progress), ...(input ? { input } : {}), ...(mask ? { mask } : {}), ...(imagePromptImages ? { imagePromptImages } : {}), ...(jobTag === undefined ? {} : { jobTag }) });
      return { type: 'done', id, images: [image] };
    });

  /** Describe for the server's route: the describer runs here, so the server keeps answering while it does. */
  const runDescribe = ({ id, describeType, image }: Extract<ToWorker, { type: 'describe' }>) =>
    answer(id, async (signal) => ({ type: 'described', id, description: await describers.describe(describeType, image, { signal }) }));

  process.on('message', (message: ToWorker) => {
    if (message.type === 'cancel') running.get(message.id)?.abort(new Error('cancelled'));
    else if (message.type === 'describe') void runDescribe(message);
    else void runJob(message);
  });
  process.on('disconnect', () => {
    for (const controller of running.values()) controller.abort(new Error('the server disconnected'));
    void Promise.allSettled([service.close(), describers.release()]).finally(() => process.exit(0));
  });
  // Ctrl-C in a terminal and `systemctl stop` signal the whole process group, this process included. Dying with the
  // server would race its shutdown and record the running job as crashed; instead the server cancels the job (it is
  // recorded as interrupted, retryable) and then disconnects, which ends this process. Should no disconnect come
  // (the signal was meant for this process alone), it leaves on its own after a grace period.
  const LEAVE_AFTER_SIGNAL_MS = 30_000;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (!process.connected) process.exit(0);
      setTimeout(() => process.exit(0), LEAVE_AFTER_SIGNAL_MS).unref();
    });
  }
  send({ type: 'ready' });
}

await main(process.argv);

/**
 * Entry point of the inference process (forked by InferenceWorker). It verifies models through the store and runs
 * the generation service; everything it knows arrives in its first argument (settings as JSON), nothing from the
 * environment.
 */
import { toErrorData } from '../../engine/index.ts';
import { GenerationService, type VerifiedModel } from '../generation/generation-service.ts';
import { verifyLoras } from '../generation/lora-selection.ts';
import { openModelStore, type ModelStore } from '../models/model-store.ts';
import { createTokenizerLoader } from '../generation/tokenizer-selection.ts';
import type { FromWorker, ToWorker, WorkerGenerateRequest, WorkerSettings } from './worker-protocol.ts';

const settings = JSON.parse(process.argv[2] ?? '{}') as WorkerSettings;
const send = (message: FromWorker): void => {
  // Once the server has disconnected nobody is listening: a late progress or result is dropped, not an EPIPE crash.
  if (process.connected) process.send?.(message, undefined, {}, () => undefined);
};

async function verified(store: ModelStore, name: string): Promise<VerifiedModel> {
  const file = await store.resolve('checkpoints', name);
  const entry = (await store.list()).find((m) => m.kind === 'checkpoints' && m.name === name);
  if (entry === undefined) throw new Error(`${name}: not in the trust manifest`);
  return { path: file, sha256: entry.sha256 };
}

const store = await openModelStore(settings.modelsDir);
const service = new GenerationService({
  runtime: { executionProvider: settings.executionProvider, ...(settings.threads > 0 ? { threads: settings.threads } : {}) },
  outputsDir: settings.outputsDir,
  software: settings.software,
  loadTokenizer: createTokenizerLoader(store),
});
const running = new Map<number, AbortController>();

async function runJob(id: number, request: WorkerGenerateRequest): Promise<void> {
  const controller = new AbortController();
  running.set(id, controller);
  try {
    const { model, refiner, loras, ...rest } = request;
    const images = await service.generate(
      {
        ...rest,
        model: await verified(store, model),
        ...(refiner === undefined ? {} : { refiner: await verified(store, refiner) }),
        ...(loras === undefined || loras.length === 0 ? {} : { loras: await verifyLoras(store, await store.list(), loras) }),
      },
      { signal: controller.signal, onProgress: (progress) => send({ type: 'progress', id, progress }) },
    );
    send({ type: 'done', id, images });
  } catch (err) {
    const error = toErrorData(err);
    send({ type: 'failed', id, error, cancelled: controller.signal.aborted });
    if (error.kind === 'internal' && !controller.signal.aborted) process.stderr.write(`inference worker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  } finally {
    running.delete(id);
  }
}

process.on('message', (message: ToWorker) => {
  if (message.type === 'cancel') running.get(message.id)?.abort(new Error('cancelled'));
  else void runJob(message.id, message.request);
});
process.on('disconnect', () => {
  for (const controller of running.values()) controller.abort(new Error('the server disconnected'));
  void service.close().finally(() => process.exit(0));
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

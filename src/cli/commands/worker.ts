/**
 * `fooocus worker --redis <url>`: runs jobs for a studio on this machine. It keeps nothing the studio needs (stop or
 * kill it at any time); its models are verified in its own store, and Ctrl-C interrupts its running jobs (the
 * studio records them as interrupted, retryable) before it leaves.
 */
import { startWorkerNode } from '../../app/studio/worker-node.ts';
import { UsageError, type CommandContext } from '../command.ts';
import { CONFIG_OPTIONS, loadCommandConfig } from '../command-config.ts';

const USAGE = 'npm run fooocus -- worker --redis <url> [--name <id>] [--concurrency <n>] [--outputs <dir>] [--config <file>] [--precision fp32|int8|fp16]';

export async function runWorker(ctx: CommandContext): Promise<number> {
  const { values, positionals } = ctx.parse({ ...CONFIG_OPTIONS, outputs: { type: 'string' }, redis: { type: 'string' }, name: { type: 'string' }, concurrency: { type: 'string' }, precision: { type: 'string' } });
  if (positionals.length > 0) throw new UsageError(`worker takes no arguments: ${USAGE}`);
  const loaded = await loadCommandConfig(ctx, {
    config: values.config,
    models: values.models,
    outputs: values.outputs,
    'insecure-permissions': values['insecure-permissions'],
    redis: values.redis,
    concurrency: values.concurrency,
    precision: values.precision,
  });
  if (loaded.config.queue.redisUrl === null) throw new UsageError(`worker needs Redis: ${USAGE} (or queue.redisUrl in the config)`);
  const log = (line: string): void => {
    ctx.stderr.write(`${line}\n`);
  };
  const node = await startWorkerNode(loaded.config, { software: 'Fooocus-TS', log, ...(values.name === undefined ? {} : { id: values.name }) });
  ctx.stdout.write(`worker ${node.worker.id} is taking jobs (concurrency ${loaded.config.queue.workerConcurrency}, ${loaded.config.runtime.executionProvider}); Ctrl-C to stop\n`);
  // SIGTERM too (systemctl stop, docker stop): the running job is reported interrupted rather than left for the
  // studio to find gone.
  const terminated = new Promise<void>((resolve) => process.once('SIGTERM', () => resolve()));
  await Promise.race([terminated, new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve(), { once: true }))]);
  log('stopping: interrupting running jobs');
  await node.close();
  log('stopped');
  return 0;
}

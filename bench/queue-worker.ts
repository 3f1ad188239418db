/**
 * A `fooocus worker` for the queue benchmark, in its own process: the real worker node (own model store with the
 * demo model, restricted inference process) from the configuration in argv[2]. Prints `ready`; SIGTERM stops it.
 */
import type { AppConfig } from '../src/app/config/config-schema.ts';
import { startWorkerNode } from '../src/app/studio/worker-node.ts';

const config = JSON.parse(process.argv[2] ?? '{}') as AppConfig;
const node = await startWorkerNode(config, { software: 'Fooocus-TS bench', log: (line) => process.stderr.write(`[worker] ${line}\n`), id: process.argv[3] ?? 'bench' });
process.stdout.write('ready\n');
process.once('SIGTERM', () => void node.close().then(() => process.exit(0)));

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatCliCommand } from '../app/cli-invocation.ts';
import { createContext, type CliIo, type CommandContext } from './command.ts';
import { describeFailure, EXIT_FAILURE } from './exit-codes.ts';
import { runAuditCommand } from './commands/audit.ts';
import { runCatalog } from './commands/catalog.ts';
import { runConfig } from './commands/config.ts';
import { runDescribe } from './commands/describe.ts';
import { runDoctor } from './commands/doctor.ts';
import { runGenerate } from './commands/generate.ts';
import { runServe } from './commands/serve.ts';
import { runInspect } from './commands/inspect.ts';
import { runMetadata } from './commands/metadata.ts';
import { runModels } from './commands/models.ts';
import { runUpscale } from './commands/upscale.ts';
import { runTokens, runUsers } from './commands/users.ts';
import { runWorker } from './commands/worker.ts';

type Command = { summary: string; run: (ctx: CommandContext) => Promise<number> };

const commands: Record<string, Command> = {
  audit: { summary: 're-verify every model, check permissions, the catalog signature and untracked files', run: runAuditCommand },
  catalog: { summary: 'maintainers: keygen, sign and verify the signed model catalog', run: runCatalog },
  config: { summary: 'show every setting with its source, or lock the reviewed config file against changes', run: runConfig },
  doctor: { summary: 'check Node.js, CPU features, ONNX Runtime providers and dependency versions', run: runDoctor },
  serve: { summary: 'start the web studio and HTTP API (127.0.0.1:7865 by default)', run: runServe },
  generate: { summary: 'make images from a prompt (text-to-image, or image-to-image with --input)', run: runGenerate },
  inspect: { summary: 'show the family, architecture, parameter counts and SHA-256 of a .safetensors checkpoint', run: runInspect },
  metadata: { summary: 'show the generation settings an image records (A1111, Fooocus, ComfyUI, InvokeAI, ...) and how they map', run: runMetadata },
  describe: { summary: 'describe an image as a prompt, as Fooocus\'s Describe (--type photo: BLIP caption; anime: WD14 tags)', run: runDescribe },
  models: { summary: 'list trusted models, import a .safetensors file, pull from the catalog, or convert a PyTorch upscaler/inpaint file', run: runModels },
  upscale: { summary: 'upscale an image as Fooocus does (upscaler model, then image-to-image; --mode fast: the upscaler alone)', run: runUpscale },
  tokens: { summary: 'create, revoke or list API tokens (stored as SHA-256, shown once)', run: runTokens },
  users: { summary: 'add, remove or list users who sign in to the server, or set a password (stored as scrypt hashes)', run: runUsers },
  worker: { summary: 'run jobs for a studio on this machine, through Redis (serve --redis on the studio)', run: runWorker },
};

/** The command `name` runs, or undefined for a name the CLI does not have. */
export function findCommand(name: string): Command['run'] | undefined {
  return Object.hasOwn(commands, name) ? commands[name]?.run : undefined;
}

function usage(): string {
  const rows = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return [
    `Usage: ${formatCliCommand('<command> [options]')}`,
    '',
    'Commands:',
    ...rows,
    '',
    `Run \`${formatCliCommand('<command> --help')}\` for details, \`${formatCliCommand('--version')}\` for the version.`,
  ].join('\n');
}

/** `fooocus-ts 0.1.0 (Node.js 24.21.0)`: the package's version, read when asked (package.json beside src/ and dist/). */
async function describeVersion(): Promise<string> {
  const manifest = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json');
  const { name, version } = JSON.parse(await readFile(manifest, 'utf8')) as { name: string; version: string };
  return `${name} ${version} (Node.js ${process.versions.node})`;
}

/** The CLI's composition root: dispatches argv to a command and maps errors to exit codes. */
export async function main(
  argv: string[],
  io: CliIo = { stdout: process.stdout, stderr: process.stderr, signal: new AbortController().signal },
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(usage() + '\n');
    return name === undefined ? 2 : 0;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    io.stdout.write(`${await describeVersion()}\n`);
    return 0;
  }
  const command = commands[name];
  if (command === undefined) {
    io.stderr.write(`error: unknown command "${name}"\n${usage()}\n`);
    return 2;
  }
  try {
    return await command.run(createContext(rest, io));
  } catch (err) {
    const failure = describeFailure(err);
    if (failure.code === EXIT_FAILURE) throw err;
    io.stderr.write(`error: ${failure.message.split('\n')[0]}\n`);
    return failure.code;
  }
}

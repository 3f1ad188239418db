import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CatalogKeyError } from '../../app/models/catalog-errors.ts';
import {
  computeCatalogKeyId,
  generateCatalogKeyPair,
  importCatalogPrivateKey,
  importCatalogPublicKey,
  signCatalogBytes,
  type CatalogKey,
} from '../../app/models/catalog-signature.ts';
import { parseCatalog, readVerifiedCatalog } from '../../app/models/catalog.ts';
import { createContext, UsageError, type CommandContext } from '../command.ts';
import { withModelUserErrors } from './models.ts';

const USAGE = [
  'Usage (maintainers):',
  '  npm run fooocus -- catalog keygen <dir>                         write a new Ed25519 key pair (private key mode 0600)',
  '  npm run fooocus -- catalog sign --key <private.pem> <catalog.json>  write <catalog.json>.sig',
  '  npm run fooocus -- catalog verify [--key <public.pem>] <catalog.json>  check the signature (pinned keys by default)',
].join('\n');

export const PRIVATE_KEY_FILE = 'catalog-signing.key.pem';
export const PUBLIC_KEY_FILE = 'catalog-signing.pub.pem';

async function runKeygen(ctx: CommandContext, args: string[]): Promise<number> {
  const { positionals } = createContext(args, ctx).parse({});
  if (positionals.length !== 1) throw new UsageError('catalog keygen takes one directory: npm run fooocus -- catalog keygen <dir>');
  const dir = positionals[0]!;
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const pair = generateCatalogKeyPair();
  const privateFile = path.join(dir, PRIVATE_KEY_FILE);
  // 'wx': never overwrite a key; mode 0600 at creation, and chmod in case the umask or filesystem widened it.
  await writeFile(privateFile, pair.privateKeyPem, { mode: 0o600, flag: 'wx' });
  await chmod(privateFile, 0o600);
  await writeFile(path.join(dir, PUBLIC_KEY_FILE), pair.publicKeyPem, { mode: 0o644, flag: 'wx' });
  ctx.stdout.write(
    [
      `keyId       ${pair.keyId}`,
      `private key ${privateFile} (keep it offline; never commit it)`,
      `public key  ${path.join(dir, PUBLIC_KEY_FILE)}`,
      'For TRUSTED_CATALOG_KEYS:',
      `  { keyId: '${pair.keyId}', publicKey: '${pair.publicKeyRaw}' },`,
    ].join('\n') + '\n',
  );
  return 0;
}

async function runSign(ctx: CommandContext, args: string[]): Promise<number> {
  const { values, positionals } = createContext(args, ctx).parse({ key: { type: 'string' } });
  if (values.key === undefined || positionals.length !== 1) {
    throw new UsageError('catalog sign needs a key and one catalog: npm run fooocus -- catalog sign --key <private.pem> <catalog.json>');
  }
  const file = positionals[0]!;
  const privateKey = importCatalogPrivateKey(await readFile(values.key, 'utf8'), values.key);
  const keyId = computeCatalogKeyId(privateKey);
  const bytes = await readFile(file);
  // A maintainer signs only what the app would accept, and only under the key the catalog names.
  const catalog = parseCatalog(bytes, file);
  if (catalog.keyId !== keyId) throw new CatalogKeyError(values.key, `is key ${keyId}, but ${file} names keyId ${catalog.keyId}`);
  await writeFile(`${file}.sig`, signCatalogBytes(bytes, privateKey));
  ctx.stdout.write(`signed ${file} (version ${catalog.version}, ${catalog.entries.length} entries) with ${keyId}\n  -> ${file}.sig\n`);
  return 0;
}

async function runVerify(ctx: CommandContext, args: string[]): Promise<number> {
  const { values, positionals } = createContext(args, ctx).parse({ key: { type: 'string' } });
  if (positionals.length !== 1) throw new UsageError('catalog verify takes one catalog: npm run fooocus -- catalog verify [--key <public.pem>] <catalog.json>');
  const file = positionals[0]!;
  let keys: CatalogKey[] | undefined;
  if (values.key !== undefined) {
    const pem = await readFile(values.key, 'utf8');
    keys = [{ keyId: computeCatalogKeyId(importCatalogPublicKey(pem, values.key)), publicKey: pem }];
  }
  const verified = await readVerifiedCatalog(file, keys);
  const { catalog } = verified;
  ctx.stdout.write(`ok: ${file} signed by ${verified.keyId}, version ${catalog.version}, ${catalog.entries.length} entries\n`);
  return 0;
}

/** `fooocus catalog keygen|sign|verify`: maintainer tools for the signed model catalog. */
export async function runCatalog(ctx: CommandContext): Promise<number> {
  const [sub, ...args] = ctx.argv;
  return withModelUserErrors(ctx, async () => {
    if (sub === 'keygen') return runKeygen(ctx, args);
    if (sub === 'sign') return runSign(ctx, args);
    if (sub === 'verify') return runVerify(ctx, args);
    if (sub === '--help' || sub === '-h') {
      ctx.stdout.write(USAGE + '\n');
      return 0;
    }
    throw new UsageError(`unknown catalog subcommand ${JSON.stringify(sub ?? '')}; use keygen, sign or verify (see npm run fooocus -- catalog --help)`);
  });
}


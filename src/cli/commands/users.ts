/**
 * `fooocus users add|remove|list` and `fooocus tokens create|revoke|list`: who may use the server, kept in the
 * config file as scrypt password hashes and token SHA-256s. A password is read from standard input (a prompt
 * without echo on a terminal), never from a flag where it would land in shell history; a token is printed once
 * and only its hash is stored.
 */
import { createHash, randomBytes } from 'node:crypto';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { editConfigFile, objectAt } from '../../app/config/edit-config.ts';
import { loadConfig, locateConfigFile } from '../../app/config/load-config.ts';
import { DEFAULT_CONFIG_FILE } from '../../app/config/config-file.ts';
import { hashPassword } from '../../server/auth/password-hash.ts';
import { UsageError, type CommandContext } from '../command.ts';
import path from 'node:path';

const USERS_USAGE = [
  'Usage: fooocus users add <name> [--admin] [--config <file>]   (password from standard input)',
  '       fooocus users remove <name> [--config <file>]',
  '       fooocus users list [--config <file>]',
].join('\n');
const TOKENS_USAGE = [
  'Usage: fooocus tokens create <name> --owner <user> [--config <file>]   (prints the token once)',
  '       fooocus tokens revoke <name> [--config <file>]',
  '       fooocus tokens list [--config <file>]',
].join('\n');

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export const MIN_PASSWORD_LENGTH = 12;

interface UserEntry {
  name: string;
  role: 'user' | 'admin';
  passwordHash: string;
}
interface TokenEntry {
  name: string;
  owner: string;
  sha256: string;
}

const OPTIONS = {
  config: { type: 'string' },
  admin: { type: 'boolean', default: false },
  owner: { type: 'string' },
  'insecure-permissions': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

async function configFile(values: { config?: string | undefined }): Promise<string> {
  return (await locateConfigFile({ cwd: process.cwd(), file: values.config, env: process.env })) ?? path.resolve(DEFAULT_CONFIG_FILE);
}

function checkName(what: string, name: string | undefined, usage: string): string {
  if (name === undefined) throw new UsageError(`${what} name missing\n${usage}`);
  if (!NAME.test(name)) throw new UsageError(`${what} name "${name}" must be letters, digits, dot, dash or underscore (at most 64)`);
  return name;
}

async function currentAuth(file: string, insecure: boolean): Promise<{ users: UserEntry[]; tokens: TokenEntry[] }> {
  if (!(await access(file).then(() => true, () => false))) return { users: [], tokens: [] }; // the first `users add` creates it
  const loaded = await loadConfig({ cwd: process.cwd(), file, env: {}, flags: { 'insecure-permissions': insecure } });
  return { users: loaded.config.server.auth.users, tokens: loaded.config.server.auth.tokens };
}

/** Reads a password: one line of piped input, or a prompt typed twice without echo on a terminal. */
async function readPassword(ctx: CommandContext): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    let text = '';
    for await (const chunk of stdin) text += String(chunk);
    return text.split(/\r?\n/)[0] ?? '';
  }
  const ask = (prompt: string): Promise<string> =>
    new Promise((resolve) => {
      const rl = createInterface({ input: stdin, output: ctx.stderr as NodeJS.WritableStream, terminal: true });
      const output = rl as unknown as { _writeToOutput: (s: string) => void };
      ctx.stderr.write(prompt);
      output._writeToOutput = () => undefined; // no echo
      rl.question('', (answer) => {
        rl.close();
        ctx.stderr.write('\n');
        resolve(answer);
      });
    });
  const first = await ask('Password: ');
  const second = await ask('Again: ');
  if (first !== second) throw new UsageError('the two passwords differ');
  return first;
}

export async function runUsers(ctx: CommandContext): Promise<number> {
  const { values, positionals } = ctx.parse(OPTIONS);
  const [action, name, ...extra] = positionals;
  if (values.help || action === undefined) {
    (values.help ? ctx.stdout : ctx.stderr).write(USERS_USAGE + '\n');
    return values.help ? 0 : 2;
  }
  if (extra.length > 0) throw new UsageError(`users ${action}: unexpected argument "${extra[0]}"\n${USERS_USAGE}`);
  const file = await configFile(values);
  const insecure = values['insecure-permissions'];
  if (action === 'list') {
    const { users, tokens } = await currentAuth(file, insecure);
    if (users.length === 0) ctx.stdout.write('No users: the server runs without sign-in (loopback only). Add one with `fooocus users add <name>`.\n');
    for (const u of users) ctx.stdout.write(`${u.name}\t${u.role}\t${tokens.filter((t) => t.owner === u.name).length} token(s)\n`);
    return 0;
  }
  const user = checkName('user', name, USERS_USAGE);
  if (action === 'add') {
    if ((await currentAuth(file, insecure)).users.some((u) => u.name === user)) throw new UsageError(`user "${user}" exists already; remove it first to change its password`);
    const password = await readPassword(ctx);
    if ([...password].length < MIN_PASSWORD_LENGTH) throw new UsageError(`the password must have at least ${MIN_PASSWORD_LENGTH} characters`);
    const entry: UserEntry = { name: user, role: values.admin ? 'admin' : 'user', passwordHash: await hashPassword(password) };
    await editConfigFile(file, (config) => {
      const auth = objectAt(config, 'server', 'auth');
      auth.users = [...((auth.users as UserEntry[] | undefined) ?? []), entry];
    }, { allowInsecure: insecure });
    ctx.stdout.write(`added ${entry.role} "${user}" to ${file}; restart \`fooocus serve\` to apply\n`);
    return 0;
  }
  if (action === 'remove') {
    const { users, tokens } = await currentAuth(file, insecure);
    if (!users.some((u) => u.name === user)) throw new UsageError(`no user "${user}" in ${file}`);
    const revoked = tokens.filter((t) => t.owner === user).map((t) => t.name);
    await editConfigFile(file, (config) => {
      const auth = objectAt(config, 'server', 'auth');
      auth.users = ((auth.users as UserEntry[] | undefined) ?? []).filter((u) => u.name !== user);
      auth.tokens = ((auth.tokens as TokenEntry[] | undefined) ?? []).filter((t) => t.owner !== user);
    }, { allowInsecure: insecure });
    ctx.stdout.write(`removed "${user}"${revoked.length > 0 ? ` and revoked their tokens (${revoked.join(', ')})` : ''}; restart \`fooocus serve\` to apply\n`);
    return 0;
  }
  throw new UsageError(`users: unknown action "${action}" (add, remove or list)\n${USERS_USAGE}`);
}

export async function runTokens(ctx: CommandContext): Promise<number> {
  const { values, positionals } = ctx.parse(OPTIONS);
  const [action, name, ...extra] = positionals;
  if (values.help || action === undefined) {
    (values.help ? ctx.stdout : ctx.stderr).write(TOKENS_USAGE + '\n');
    return values.help ? 0 : 2;
  }
  if (extra.length > 0) throw new UsageError(`tokens ${action}: unexpected argument "${extra[0]}"\n${TOKENS_USAGE}`);
  const file = await configFile(values);
  const insecure = values['insecure-permissions'];
  const { users, tokens } = await currentAuth(file, insecure);
  if (action === 'list') {
    if (tokens.length === 0) ctx.stdout.write('No API tokens. Create one with `fooocus tokens create <name> --owner <user>`.\n');
    for (const t of tokens) ctx.stdout.write(`${t.name}\t${t.owner}\n`);
    return 0;
  }
  const token = checkName('token', name, TOKENS_USAGE);
  if (action === 'create') {
    const owner = checkName('owner', values.owner, TOKENS_USAGE);
    if (!users.some((u) => u.name === owner)) throw new UsageError(`--owner "${owner}" is not a user; add it first with \`fooocus users add ${owner}\``);
    if (tokens.some((t) => t.name === token)) throw new UsageError(`token "${token}" exists already; revoke it first`);
    const secret = `fts_${randomBytes(32).toString('base64url')}`;
    const entry: TokenEntry = { name: token, owner, sha256: createHash('sha256').update(secret).digest('hex') };
    await editConfigFile(file, (config) => {
      const auth = objectAt(config, 'server', 'auth');
      auth.tokens = [...((auth.tokens as TokenEntry[] | undefined) ?? []), entry];
    }, { allowInsecure: insecure });
    ctx.stderr.write(`created token "${token}" for "${owner}" in ${file}; it is shown once and only its SHA-256 is stored. Restart \`fooocus serve\` to apply.\n`);
    ctx.stdout.write(`${secret}\n`);
    return 0;
  }
  if (action === 'revoke') {
    if (!tokens.some((t) => t.name === token)) throw new UsageError(`no token "${token}" in ${file}`);
    await editConfigFile(file, (config) => {
      const auth = objectAt(config, 'server', 'auth');
      auth.tokens = ((auth.tokens as TokenEntry[] | undefined) ?? []).filter((t) => t.name !== token);
    }, { allowInsecure: insecure });
    ctx.stdout.write(`revoked "${token}"; restart \`fooocus serve\` to apply\n`);
    return 0;
  }
  throw new UsageError(`tokens: unknown action "${action}" (create, revoke or list)\n${TOKENS_USAGE}`);
}

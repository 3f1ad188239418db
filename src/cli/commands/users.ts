/**
 * `fooocus users add|password|remove|list` and `fooocus tokens create|revoke|list`: who may use the server, kept
 * in the config file as scrypt password hashes and token SHA-256s (app/auth/credential-store.ts). A password is
 * read from standard input (a prompt without echo on a terminal), never from a flag; a token is printed once and
 * only its hash is stored. The file edited is the one `fooocus serve` would read.
 */
import path from 'node:path';
import {
  addUser,
  checkAuthName,
  createToken,
  readCredentials,
  refuseExistingUser,
  removeUser,
  revokeToken,
  setUserPassword,
} from '../../app/auth/credential-store.ts';
import { DEFAULT_CONFIG_FILE } from '../../app/config/config-file.ts';
import { locateConfigFile } from '../../app/config/load-config.ts';
import { UsageError, type CommandContext } from '../command.ts';
import { readPassword } from '../password-prompt.ts';

const USERS_USAGE = [
  'Usage: npm run fooocus -- users add <name> [--admin]   (password typed twice, or the first line of standard input)',
  '       npm run fooocus -- users password <name>        (sets a new password the same way)',
  '       npm run fooocus -- users remove <name>          (also revokes their tokens)',
  '       npm run fooocus -- users list',
  'Options: --config <file>, --insecure-permissions',
].join('\n');
const TOKENS_USAGE = [
  'Usage: npm run fooocus -- tokens create <name> --owner <user>   (prints the token once; send it as Authorization: Bearer <token>)',
  '       npm run fooocus -- tokens revoke <name>',
  '       npm run fooocus -- tokens list',
  'Options: --config <file>, --insecure-permissions',
].join('\n');

const OPTIONS = {
  config: { type: 'string' },
  admin: { type: 'boolean', default: false },
  owner: { type: 'string' },
  'insecure-permissions': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const APPLY = 'restart `npm run fooocus -- serve` to apply';

interface Invocation {
  action: string;
  name: string | undefined;
  file: string;
  permissions: { allowInsecure: boolean };
  admin: boolean;
  owner: string | undefined;
}

/** Parses `<action> [name]` and the options; an exit code when usage was printed instead. */
async function parseInvocation(ctx: CommandContext, command: string, usage: string): Promise<Invocation | number> {
  const { values, positionals } = ctx.parse(OPTIONS);
  const [action, name, ...extra] = positionals;
  if (values.help || action === undefined) {
    (values.help ? ctx.stdout : ctx.stderr).write(`${usage}\n`);
    return values.help ? 0 : 2;
  }
  if (extra.length > 0) throw new UsageError(`${command} ${action}: unexpected argument "${extra[0]}"\n${usage}`);
  const file = (await locateConfigFile({ cwd: process.cwd(), file: values.config, env: process.env })) ?? path.resolve(DEFAULT_CONFIG_FILE);
  return { action, name, file, permissions: { allowInsecure: values['insecure-permissions'] }, admin: values.admin, owner: values.owner };
}

function requireName(what: 'user' | 'token', inv: Invocation, usage: string): string {
  if (inv.name === undefined) throw new UsageError(`${inv.action}: the ${what} name is missing\n${usage}`);
  return inv.name;
}

export async function runUsers(ctx: CommandContext): Promise<number> {
  const inv = await parseInvocation(ctx, 'users', USERS_USAGE);
  if (typeof inv === 'number') return inv;
  if (inv.admin && inv.action !== 'add') throw new UsageError('--admin goes with `users add`');
  if (inv.owner !== undefined) throw new UsageError('--owner goes with `tokens create`');
  switch (inv.action) {
    case 'list': {
      const { users, tokens } = await readCredentials(inv.file, inv.permissions);
      if (users.length === 0) ctx.stderr.write(`No users in ${inv.file}: the server runs without sign-in (loopback only). Add one with \`npm run fooocus -- users add <name>\`.\n`);
      for (const u of users) ctx.stdout.write(`${u.name}\t${u.role}\t${tokens.filter((t) => t.owner === u.name).length} token(s)\n`);
      return 0;
    }
    case 'add': {
      const name = requireName('user', inv, USERS_USAGE);
      checkAuthName('user', name);
      refuseExistingUser((await readCredentials(inv.file, inv.permissions)).users, name); // before asking for a password
      const role = inv.admin ? 'admin' : 'user';
      await addUser(inv.file, { name, role, password: await readPassword(process.stdin, ctx.stderr) }, inv.permissions);
      ctx.stdout.write(`added ${role} "${name}" to ${inv.file}; ${APPLY}\n`);
      return 0;
    }
    case 'password': {
      const name = requireName('user', inv, USERS_USAGE);
      if (!(await readCredentials(inv.file, inv.permissions)).users.some((u) => u.name === name)) throw new UsageError(`no user "${name}" in ${inv.file}`);
      await setUserPassword(inv.file, name, await readPassword(process.stdin, ctx.stderr, 'New password'), inv.permissions);
      ctx.stdout.write(`set a new password for "${name}" in ${inv.file}; ${APPLY} (a restart signs everyone out)\n`);
      return 0;
    }
    case 'remove': {
      const name = requireName('user', inv, USERS_USAGE);
      const revoked = await removeUser(inv.file, name, inv.permissions);
      const tokens = revoked.length > 0 ? ` and revoked their tokens (${revoked.join(', ')})` : '';
      ctx.stdout.write(`removed "${name}"${tokens} from ${inv.file}; their jobs and images stay; ${APPLY}\n`);
      return 0;
    }
    default:
      throw new UsageError(`users: unknown action "${inv.action}" (add, password, remove or list)\n${USERS_USAGE}`);
  }
}

export async function runTokens(ctx: CommandContext): Promise<number> {
  const inv = await parseInvocation(ctx, 'tokens', TOKENS_USAGE);
  if (typeof inv === 'number') return inv;
  if (inv.admin) throw new UsageError('--admin goes with `users add`; a token has its owner’s role');
  if (inv.owner !== undefined && inv.action !== 'create') throw new UsageError('--owner goes with `tokens create`');
  switch (inv.action) {
    case 'list': {
      const { tokens } = await readCredentials(inv.file, inv.permissions);
      if (tokens.length === 0) ctx.stderr.write(`No API tokens in ${inv.file}. Create one with \`npm run fooocus -- tokens create <name> --owner <user>\`.\n`);
      for (const t of tokens) ctx.stdout.write(`${t.name}\t${t.owner}\n`);
      return 0;
    }
    case 'create': {
      const name = requireName('token', inv, TOKENS_USAGE);
      if (inv.owner === undefined) throw new UsageError(`tokens create: --owner <user> is missing (the user the token acts as)\n${TOKENS_USAGE}`);
      const token = await createToken(inv.file, { name, owner: inv.owner }, inv.permissions);
      ctx.stderr.write(`created token "${name}" for "${inv.owner}" in ${inv.file}. It is shown this once and only its SHA-256 is stored; ${APPLY}.\n`);
      ctx.stdout.write(`${token}\n`);
      return 0;
    }
    case 'revoke': {
      const name = requireName('token', inv, TOKENS_USAGE);
      await revokeToken(inv.file, name, inv.permissions);
      ctx.stdout.write(`revoked "${name}" in ${inv.file}; ${APPLY}\n`);
      return 0;
    }
    default:
      throw new UsageError(`tokens: unknown action "${inv.action}" (create, revoke or list)\n${TOKENS_USAGE}`);
  }
}

/**
 * The users and API tokens kept in the config file (`server.auth`): scrypt password hashes and token SHA-256s,
 * never the secrets. Every change is one atomic edit of the file (edit-config.ts) whose preconditions (the user
 * exists, the name is free) are checked on the bytes being replaced, and the running server picks it up on restart.
 */
import { authOf, editConfigFile, objectAt, readConfigJson, type ConfigJson } from '../config/edit-config.ts';
import type { ConfigPermissionOptions } from '../config/config-file.ts';
import { AUTH_NAME_PATTERN, type AppConfig } from '../config/config-schema.ts';
import { createApiToken } from './api-token.ts';
import { hashPassword } from './password-hash.ts';
import { FooocusError } from '../../engine/index.ts';

export type UserEntry = AppConfig['server']['auth']['users'][number];
export type TokenEntry = AppConfig['server']['auth']['tokens'][number];
export type Role = UserEntry['role'];

export const MIN_PASSWORD_LENGTH = 12;
/** The sign-in route takes passwords up to this length; a longer one could never be typed in. */
export const MAX_PASSWORD_LENGTH = 1024;

/** A change the config cannot take as asked (a name taken or unknown, a weak password); the message says why. */
export class CredentialError extends FooocusError {
  constructor(message: string) {
    super('invalid', message);
  }
}

const NAME = new RegExp(AUTH_NAME_PATTERN);

export function checkAuthName(what: 'user' | 'token' | 'owner', name: string): void {
  if (!NAME.test(name)) throw new CredentialError(`${what} name "${name}" must be letters, digits, dot, dash or underscore, starting with a letter or digit (at most 64)`);
}

export function checkPassword(password: string): void {
  const length = [...password].length;
  if (length < MIN_PASSWORD_LENGTH) throw new CredentialError(`the password must have at least ${MIN_PASSWORD_LENGTH} characters (it has ${length})`);
  if (length > MAX_PASSWORD_LENGTH) throw new CredentialError(`the password may have at most ${MAX_PASSWORD_LENGTH} characters`);
}

/** The users and tokens `file` holds now (none when it does not exist). */
export async function readCredentials(file: string, permissions: ConfigPermissionOptions = {}): Promise<AppConfig['server']['auth']> {
  return authOf((await readConfigJson(file, permissions)) ?? {});
}

export async function addUser(file: string, user: { name: string; role: Role; password: string }, permissions: ConfigPermissionOptions = {}): Promise<void> {
  checkAuthName('user', user.name);
  checkPassword(user.password);
  const entry: UserEntry = { name: user.name, role: user.role, passwordHash: await hashPassword(user.password) };
  await editAuth(file, permissions, (auth) => {
    refuseExistingUser(auth.users, user.name);
    auth.users.push(entry);
  });
}

/** Replaces a user's password hash; role, tokens and jobs stay. */
export async function setUserPassword(file: string, name: string, password: string, permissions: ConfigPermissionOptions = {}): Promise<void> {
  checkPassword(password);
  const passwordHash = await hashPassword(password);
  await editAuth(file, permissions, (auth) => {
    findUser(auth.users, name, file).passwordHash = passwordHash;
  });
}

/** Removes a user and revokes their tokens; returns the names of the tokens revoked. Their jobs and images stay. */
export async function removeUser(file: string, name: string, permissions: ConfigPermissionOptions = {}): Promise<string[]> {
  return editAuth(file, permissions, (auth) => {
    findUser(auth.users, name, file);
    const revoked = auth.tokens.filter((t) => t.owner === name).map((t) => t.name);
    auth.users = auth.users.filter((u) => u.name !== name);
    auth.tokens = auth.tokens.filter((t) => t.owner !== name);
    return revoked;
  });
}

/** Creates a token acting as `owner` and returns it: the only time it exists outside the caller's hands. */
export async function createToken(file: string, token: { name: string; owner: string }, permissions: ConfigPermissionOptions = {}): Promise<string> {
  checkAuthName('token', token.name);
  checkAuthName('owner', token.owner);
  const created = createApiToken();
  await editAuth(file, permissions, (auth) => {
    if (!auth.users.some((u) => u.name === token.owner)) {
      throw new CredentialError(`--owner "${token.owner}" is not a user in ${file}; add it first with \`npm run fooocus -- users add ${token.owner}\``);
    }
    if (auth.tokens.some((t) => t.name === token.name)) throw new CredentialError(`token "${token.name}" exists already; revoke it first or choose another name`);
    auth.tokens.push({ name: token.name, owner: token.owner, sha256: created.sha256 });
  });
  return created.token;
}

export async function revokeToken(file: string, name: string, permissions: ConfigPermissionOptions = {}): Promise<void> {
  await editAuth(file, permissions, (auth) => {
    if (!auth.tokens.some((t) => t.name === name)) throw new CredentialError(`no token "${name}" in ${file}`);
    auth.tokens = auth.tokens.filter((t) => t.name !== name);
  });
}

export function refuseExistingUser(users: readonly UserEntry[], name: string): void {
  if (users.some((u) => u.name === name)) {
    throw new CredentialError(`user "${name}" exists already; \`npm run fooocus -- users password ${name}\` sets a new password`);
  }
}

function findUser(users: UserEntry[], name: string, file: string): UserEntry {
  const user = users.find((u) => u.name === name);
  if (user === undefined) throw new CredentialError(`no user "${name}" in ${file}`);
  return user;
}

/** One edit of `server.auth`: `change` gets copies of the lists and may replace or extend them. */
async function editAuth<T>(file: string, permissions: ConfigPermissionOptions, change: (auth: AppConfig['server']['auth']) => T): Promise<T> {
  return editConfigFile(
    file,
    (config: ConfigJson) => {
      const auth = authOf(config);
      const lists = { users: [...auth.users], tokens: [...auth.tokens] };
      const result = change(lists);
      const section = objectAt(config, 'server', 'auth');
      section.users = lists.users;
      section.tokens = lists.tokens;
      return result;
    },
    permissions,
  );
}

/**
 * Rules over `server.auth` that a schema cannot state: names unique, every password hash one the server can
 * verify (cost bounds, lengths), no two tokens with the same hash, and every token owned by a configured user, so
 * a token always acts with a known role. load-config applies them to every loaded configuration and edit-config
 * to every edit before it is written.
 */
import { findPasswordHashProblem } from '../auth/password-hash.ts';
import type { AppConfig } from './config-schema.ts';

export interface AuthProblem {
  /** Key path of the offending value: `server.auth.tokens[1].owner`. */
  key: string;
  detail: string;
}

export function findAuthProblem(auth: AppConfig['server']['auth']): AuthProblem | null {
  const users = new Map<string, number>();
  for (const [i, user] of auth.users.entries()) {
    const key = `server.auth.users[${i}]`;
    const twin = users.get(user.name);
    if (twin !== undefined) return { key: `${key}.name`, detail: `"${user.name}" is listed twice (also server.auth.users[${twin}])` };
    users.set(user.name, i);
    const problem = findPasswordHashProblem(user.passwordHash);
    if (problem !== null) return { key: `${key}.passwordHash`, detail: `${problem}; set it again with \`npm run fooocus -- users password ${user.name}\`` };
  }
  const names = new Map<string, number>();
  const hashes = new Map<string, number>();
  for (const [i, token] of auth.tokens.entries()) {
    const key = `server.auth.tokens[${i}]`;
    const twin = names.get(token.name);
    if (twin !== undefined) return { key: `${key}.name`, detail: `"${token.name}" is listed twice (also server.auth.tokens[${twin}])` };
    names.set(token.name, i);
    const sameHash = hashes.get(token.sha256);
    if (sameHash !== undefined) return { key: `${key}.sha256`, detail: `the same token as server.auth.tokens[${sameHash}]; keep one` };
    hashes.set(token.sha256, i);
    if (!users.has(token.owner)) {
      return {
        key: `${key}.owner`,
        detail: `"${token.owner}" is not one of server.auth.users; add the user first (\`npm run fooocus -- users add ${token.owner}\`)`,
      };
    }
  }
  return null;
}

/**
 * The server options that come from the configuration: who may sign in (users with their roles, tokens with
 * their owners), which Host names it answers to, the per-client rate limits, the request quotas and the cookie's
 * Secure flag. `fooocus serve` passes them to startServer; tests build a server from a config file the same way.
 */
import type { AppConfig } from '../app/config/config-schema.ts';
import type { ServerOptions } from '../server/server-options.ts';

export type ServerSettings = Required<Pick<ServerOptions, 'auth' | 'rateLimit' | 'quotas' | 'secureCookies'>> & Pick<ServerOptions, 'allowedHosts'>;

/**
 * The server log of `fooocus serve`: errors only, one JSON line each on stderr. Every 5xx is there with its cause
 * (the client only sees `internal`); refusals stay out of the terminal.
 */
export function buildServerLogger(write: (line: string) => void): NonNullable<ServerOptions['logger']> {
  return { level: 'error', stream: { write } };
}

export function buildServerSettings(config: AppConfig): ServerSettings {
  const { users, tokens } = config.server.auth;
  return {
    auth:
      users.length === 0 && tokens.length === 0
        ? null
        : {
            users: users.map((u) => ({ name: u.name, role: u.role, passwordHash: u.passwordHash })),
            tokens: tokens.map((t) => ({ name: t.name, owner: t.owner, tokenHash: t.sha256 })),
          },
    // Empty: the server's default, loopback names at the port it is bound to (which may be chosen at listen time).
    ...(config.server.allowedHosts.length === 0 ? {} : { allowedHosts: [...config.server.allowedHosts] }),
    rateLimit: { readsPerMinute: config.server.rateLimit.readsPerMinute, submitsPerMinute: config.server.rateLimit.submitsPerMinute },
    quotas: { ...config.server.quotas },
    secureCookies: config.server.secureCookies,
  };
}

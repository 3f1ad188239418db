/**
 * Lockfile rules for the supply-chain check (threat: dependency vulnerabilities / substitution).
 * Every installed package must come from the configured npm registry over HTTPS and carry a SHA-512
 * integrity hash, so `npm ci` refuses any tarball that differs from the one we reviewed.
 */
export interface LockfileProblem {
  /** The `packages` key, e.g. `node_modules/fastify`. */
  entry: string;
  rule: string;
}

interface LockEntry {
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
}

export function lintLockfile(lock: unknown, registryUrl: string): LockfileProblem[] {
  const problems: LockfileProblem[] = [];
  if (typeof lock !== 'object' || lock === null) return [{ entry: '(root)', rule: 'lockfile is not a JSON object' }];
  const { lockfileVersion, packages } = lock as { lockfileVersion?: unknown; packages?: unknown };
  if (typeof lockfileVersion !== 'number' || lockfileVersion < 3) {
    problems.push({ entry: '(root)', rule: `lockfileVersion must be 3 or later (npm >= 9), got ${String(lockfileVersion)}` });
  }
  if (typeof packages !== 'object' || packages === null) {
    return [...problems, { entry: '(root)', rule: 'lockfile has no "packages" map' }];
  }
  const registry = new URL(registryUrl);
  for (const [entry, raw] of Object.entries(packages as Record<string, LockEntry>)) {
    if (entry === '') continue; // the project itself
    if (raw.link === true) {
      if (raw.resolved === undefined || raw.resolved.startsWith('..') || raw.resolved.startsWith('/')) {
        problems.push({ entry, rule: 'workspace link must point inside the repository' });
      }
      continue;
    }
    if (typeof raw.integrity !== 'string' || !/^sha512-[A-Za-z0-9+/]{86}==$/.test(raw.integrity)) {
      problems.push({ entry, rule: 'missing or weak integrity hash (sha512 required)' });
    }
    if (raw.version !== undefined && /^(git|file|https?):|^[^@]+\//.test(raw.version)) {
      problems.push({ entry, rule: `version "${raw.version}" is not a registry version` });
    }
    if (raw.resolved !== undefined) {
      let url: URL | null = null;
      try {
        url = new URL(raw.resolved);
      } catch {
        problems.push({ entry, rule: `resolved "${raw.resolved}" is not a URL` });
      }
      if (url !== null) {
        if (url.protocol !== 'https:') problems.push({ entry, rule: `resolved URL is not https: ${raw.resolved}` });
        else if (url.host !== registry.host) {
          problems.push({ entry, rule: `resolved from ${url.host}, not the configured registry ${registry.host}` });
        } else if (!url.pathname.endsWith('.tgz')) {
          problems.push({ entry, rule: `resolved URL is not a registry tarball: ${raw.resolved}` });
        }
      }
    }
  }
  return problems;
}

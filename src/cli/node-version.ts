/**
 * The Node.js the CLI needs: `node:sqlite` without a flag arrived in 22.13.0. package.json's `engines.node` says the
 * same (a test keeps them equal), and bin/fooocus.js checks it before anything is imported.
 */
import { CLI_INVOCATION } from '../app/cli-invocation.ts';

export const REQUIRED_NODE_VERSION = '22.13.0';

/** One line for a Node.js older than REQUIRED_NODE_VERSION (found as `process.versions.node`), else null. */
export function describeUnsupportedNode(found: string): string | null {
  const have = found.replace(/^v/, '').split('.').map(Number);
  const need = REQUIRED_NODE_VERSION.split('.').map(Number);
  for (let i = 0; i < 3; i++) {
    if ((have[i] ?? 0) > need[i]!) return null;
    if ((have[i] ?? 0) < need[i]!) {
      return (
        `fooocus needs Node.js ${REQUIRED_NODE_VERSION} or later (it uses node:sqlite); this is Node.js ${found.replace(/^v/, '')}. ` +
        `Run it through the Node.js that npm installs for the project: npm ci once, then ${CLI_INVOCATION} <command>`
      );
    }
  }
  return null;
}

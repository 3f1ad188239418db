/**
 * The README says which Node the machine needs for `npm ci` and which EBADENGINE warnings that Node prints; this
 * checks the statement against package-lock.json, so a dependency that raises its Node floor changes the README.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { REQUIRED_NODE_VERSION } from '../../src/cli/node-version.ts';

const repoRoot = path.resolve(import.meta.dirname, '..', '..');
type Version = [number, number, number];

function parseVersion(text: string): Version {
  const [major = 0, minor = 0, patch = 0] = text.replace(/^v/, '').split('.').map((p) => (/^\d+$/.test(p) ? Number(p) : 0));
  return [major, minor, patch];
}

function compare(a: Version, b: Version): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return 0;
}

/** One comparator of an npm range (`>=20.9.0`, `^20.12`, `~1.2`, `20`, `20.x`, `*`), as node-semver reads it. */
function satisfiesComparator(version: Version, comparator: string): boolean {
  if (comparator === '' || comparator === '*') return true;
  const match = /^(>=|<=|>|<|\^|~|=)?v?([\dx*]+(?:\.[\dx*]+){0,2})$/.exec(comparator);
  assert.ok(match !== null, `a comparator this test reads: ${comparator}`);
  const parts = match[2]!.split('.');
  const base = parseVersion(match[2]!);
  const order = compare(version, base);
  const next = (index: number): Version => [0, 1, 2].map((i) => (i < index ? base[i]! : i === index ? base[i]! + 1 : 0)) as Version;
  switch (match[1] ?? '') {
    case '>=':
      return order >= 0;
    case '>':
      return order > 0;
    case '<=':
      return order <= 0;
    case '<':
      return order < 0;
    case '^':
      return order >= 0 && compare(version, next(base[0] !== 0 ? 0 : base[1] !== 0 ? 1 : 2)) < 0;
    case '~':
      return order >= 0 && compare(version, next(parts.length > 1 ? 1 : 0)) < 0;
    default: {
      const fixed = parts.filter((p) => /^\d+$/.test(p)).length;
      return version.slice(0, fixed).every((v, i) => v === base[i]);
    }
  }
}

function satisfiesRange(version: string, range: string): boolean {
  const v = parseVersion(version);
  return range.split('||').some((alternative) =>
    alternative
      .trim()
      .replace(/(>=|<=|>|<|\^|~)\s+/g, '$1')
      .split(/\s+/)
      .every((c) => satisfiesComparator(v, c)),
  );
}

interface LockedPackage {
  engines?: { node?: string } | string[];
  os?: string[];
  cpu?: string[];
}

/** npm installs (and checks) a platform package only on its own os and cpu. */
function isInstalledHere(p: LockedPackage): boolean {
  return (p.os === undefined || p.os.includes(process.platform)) && (p.cpu === undefined || p.cpu.includes(process.arch));
}

/** Packages npm ci installs here (the project included) whose engines.node does not admit `version`. */
function listRefusing(version: string): string[] {
  const lock = JSON.parse(readFileSync(path.join(repoRoot, 'package-lock.json'), 'utf8')) as { name: string; packages: Record<string, LockedPackage> };
  return Object.entries(lock.packages)
    .filter(([, p]) => isInstalledHere(p) && !Array.isArray(p.engines) && typeof p.engines?.node === 'string' && !satisfiesRange(version, p.engines.node))
    .map(([key]) => (key === '' ? lock.name : key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length)))
    .sort();
}

describe('the Node the README asks of the machine', () => {
  it('reads npm ranges as npm does', () => {
    assert.equal(satisfiesRange('20.20.2', '>=22'), false);
    assert.equal(satisfiesRange('22.13.0', '>=22.13.0'), true);
    assert.equal(satisfiesRange('20.17.0', '^20.19.0 || ^22.13.0 || >=24'), false);
    assert.equal(satisfiesRange('20.19.0', '^20.19.0 || ^22.13.0 || >=24'), true);
    assert.equal(satisfiesRange('21.0.0', '^20.12||^22||>=24'), false);
    assert.equal(satisfiesRange('20.1.0', '18 || 20 || >=22'), true);
    assert.equal(satisfiesRange('15.0.0', '^12.0.0 || ^14.0.0 || >=16.0.0'), false);
    assert.equal(satisfiesRange('20.20.2', '>= 10.x'), true);
    assert.equal(satisfiesRange('20.9.5', '^20.9.0'), true);
  });

  it('names exactly the packages whose EBADENGINE warnings npm ci prints there', () => {
    const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8').replace(/\s+/g, ' ');
    const floor = /needs to run npm 11 \(Node ([\d.]+) or later\)/.exec(readme)?.[1];
    const warning = /On a Node older than ([\d.]+), `npm ci` warns `EBADENGINE` for ((?:`[^`]+`(?:, | and )?)+):/.exec(readme);
    assert.ok(floor !== undefined && warning !== null, 'the README states the machine Node and the warnings');
    assert.equal(parseVersion(warning[1]!).join('.'), REQUIRED_NODE_VERSION);
    const named = [...warning[2]!.matchAll(/`([^`]+)`/g)].map((m) => m[1]!).sort();
    assert.deepEqual(named, listRefusing(floor));
    assert.deepEqual(listRefusing(REQUIRED_NODE_VERSION), [], 'nothing warns on the Node the project needs');
  });
});

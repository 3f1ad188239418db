import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { lintLockfile } from '../../scripts/lockfile-rules.ts';

const registry = 'https://registry.example.test/';
const good = 'sha512-' + 'A'.repeat(86) + '==';

function lock(entry: object): object {
  return { lockfileVersion: 3, packages: { '': { name: 'x' }, 'node_modules/pkg': entry } };
}

describe('lockfile lint', () => {
  it('accepts the project lockfile', () => {
    const file = path.resolve(import.meta.dirname, '..', '..', 'package-lock.json');
    const problems = lintLockfile(JSON.parse(readFileSync(file, 'utf8')), registry);
    assert.deepEqual(problems, []);
  });

  it('accepts a registry tarball with sha512', () => {
    assert.deepEqual(lintLockfile(lock({ version: '1.0.0', resolved: `${registry}pkg/-/pkg-1.0.0.tgz`, integrity: good }), registry), []);
  });

  const bad: [string, object, RegExp][] = [
    ['missing integrity', { version: '1.0.0' }, /integrity/],
    ['sha1 integrity', { version: '1.0.0', integrity: 'sha1-abcdefabcdefabcdefabcdefabc=' }, /integrity/],
    ['plain http', { version: '1.0.0', integrity: good, resolved: 'http://registry.example.test/pkg/-/pkg-1.0.0.tgz' }, /not https/],
    ['another host', { version: '1.0.0', integrity: good, resolved: 'https://evil.example/pkg-1.0.0.tgz' }, /not the configured registry/],
    ['git dependency', { version: 'git+ssh://git@host/x.git', integrity: good }, /not a registry version/],
    ['github shorthand', { version: 'someone/pkg#main', integrity: good }, /not a registry version/],
    ['link outside the repo', { link: true, resolved: '../elsewhere' }, /inside the repository/],
  ];
  for (const [label, entry, rule] of bad) {
    it(`rejects ${label}`, () => {
      const problems = lintLockfile(lock(entry), registry);
      assert.equal(problems.length, 1, JSON.stringify(problems));
      assert.equal(problems[0]?.entry, 'node_modules/pkg');
      assert.match(problems[0]?.rule ?? '', rule);
    });
  }

  it('rejects an old lockfile version', () => {
    assert.match(lintLockfile({ lockfileVersion: 1, packages: {} }, registry)[0]?.rule ?? '', /lockfileVersion/);
  });
});

import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { fillSmallHoles } from '../../../src/engine/segment/mask-holes.ts';

/** A mask from rows of '#' (inside) and '.' (outside). */
function parse(rows: string[]): { mask: Uint8Array; width: number; height: number } {
  return { mask: Uint8Array.from(rows.join('').split(''), (c) => (c === '#' ? 1 : 0)), width: rows[0]!.length, height: rows.length };
}

function show(mask: Uint8Array, width: number): string[] {
  const rows: string[] = [];
  for (let i = 0; i < mask.length; i += width) rows.push([...mask.subarray(i, i + width)].map((v) => (v === 1 ? '#' : '.')).join(''));
  return rows;
}

describe('fillSmallHoles', () => {
  const ring = ['........', '.######.', '.#..#.#.', '.#..####', '.######.', '........'];

  it('fills enclosed holes smaller than the area and keeps larger outside regions', () => {
    const { mask, width, height } = parse(ring);
    // Holes: 4 pixels at (2..3, 2..3) and 1 pixel at (5, 2); the outside border region is large.
    assert.deepEqual(show(fillSmallHoles(mask, width, height, 5), width), ['........', '.######.', '.######.', '.#######', '.######.', '........']);
    // Area 4 is not below 4: only the single pixel goes.
    assert.deepEqual(show(fillSmallHoles(mask, width, height, 4), width), ['........', '.######.', '.#..###.', '.#..####', '.######.', '........']);
  });

  it('joins outside pixels diagonally (8-connected), so a hole touching the outside by a corner is not a hole', () => {
    const { mask, width, height } = parse(['#####', '#.###', '##.##', '###..', '#####']);
    // (1,1) touches (2,2) diagonally, which touches (3,3)-(4,3): one region of 4 pixels.
    assert.deepEqual(show(fillSmallHoles(mask, width, height, 4), width), ['#####', '#.###', '##.##', '###..', '#####']);
    assert.deepEqual(show(fillSmallHoles(mask, width, height, 5), width), ['#####', '#####', '#####', '#####', '#####']);
  });

  it('also fills a small region at the border, and leaves the input untouched', () => {
    const { mask, width, height } = parse(['..###', '#####', '#####']);
    const before = Uint8Array.from(mask);
    assert.deepEqual(show(fillSmallHoles(mask, width, height, 3), width), ['#####', '#####', '#####']);
    assert.deepEqual(mask, before);
  });
});

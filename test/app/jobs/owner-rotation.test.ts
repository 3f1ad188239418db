import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { OwnerRotation } from '../../../src/app/jobs/owner-rotation.ts';

describe('owner rotation with several workers', () => {
  it('passes over an owner whose next job no free worker can run, keeping its turn for later', () => {
    const rotation = new OwnerRotation();
    rotation.enqueue('A', 'a1');
    rotation.enqueue('B', 'b1');
    rotation.enqueue('A', 'a2');
    // a1 needs a model no free worker has: B goes first, and A's order is kept (a2 does not jump a1).
    assert.deepEqual(rotation.next((id) => id !== 'a1'), { owner: 'B', id: 'b1' });
    assert.equal(rotation.next((id) => id !== 'a1'), undefined);
    assert.deepEqual(rotation.next(), { owner: 'A', id: 'a1' });
    assert.deepEqual(rotation.next(), { owner: 'A', id: 'a2' });
  });

  it("a requeued job (its worker died) goes back to the head of its owner's lane", () => {
    const rotation = new OwnerRotation();
    rotation.enqueue('A', 'a1');
    rotation.enqueue('A', 'a2');
    rotation.enqueue('B', 'b1');
    assert.deepEqual(rotation.next(), { owner: 'A', id: 'a1' });
    rotation.requeue('A', 'a1');
    assert.deepEqual(rotation.heads().sort(), ['a1', 'b1']);
    // B has not been served yet, so it goes first; then A's requeued job before A's next one.
    assert.deepEqual([rotation.next()?.id, rotation.next()?.id, rotation.next()?.id], ['b1', 'a1', 'a2']);
  });
});

/**
 * Which queued job runs next, fairly across owners: the owner served least recently goes first (one never served
 * counts as least recent), and each owner's jobs run in the order they were submitted. An owner with many jobs
 * therefore waits for everyone else's next job between two of its own, and nobody waits more than one job per
 * other owner. Ties (owners never served) go to the owner whose waiting job was submitted first.
 */

interface QueuedEntry {
  id: string;
  /** Submission rank, for ties between owners. */
  order: number;
}

export interface RotationPick {
  owner: string;
  id: string;
}

export class OwnerRotation {
  readonly #lanes = new Map<string, QueuedEntry[]>();
  readonly #lastServed: Map<string, number>;
  #served = 0;
  #submitted = 0;
  #requeued = 0;

  /** `lastServed`: owner -> rank of their most recently started job (higher is more recent), e.g. from the store. */
  constructor(lastServed: ReadonlyMap<string, number> = new Map()) {
    this.#lastServed = new Map(lastServed);
    for (const rank of lastServed.values()) this.#served = Math.max(this.#served, rank);
  }

  get size(): number {
    let n = 0;
    for (const lane of this.#lanes.values()) n += lane.length;
    return n;
  }

  /** Appends a job behind the owner's other queued jobs. */
  enqueue(owner: string, id: string): void {
    const lane = this.#lanes.get(owner) ?? [];
    lane.push({ id, order: this.#submitted++ });
    this.#lanes.set(owner, lane);
  }

  /** Puts a job that had started back at the head of its owner's lane, ahead of every job waiting (its worker died). */
  requeue(owner: string, id: string): void {
    const lane = this.#lanes.get(owner) ?? [];
    lane.unshift({ id, order: -++this.#requeued });
    this.#lanes.set(owner, lane);
  }

  /** Takes a job out of line (cancelled); false if it was not queued. */
  remove(id: string): boolean {
    for (const [owner, lane] of this.#lanes) {
      const index = lane.findIndex((e) => e.id === id);
      if (index < 0) continue;
      lane.splice(index, 1);
      if (lane.length === 0) this.#lanes.delete(owner);
      return true;
    }
    return false;
  }

  /**
   * Takes the next job out of line and records its owner as just served. `canStart`: whether a job can start now
   * (a worker able to run it is free); an owner whose next job cannot is passed over this time, keeping its turn.
   */
  next(canStart?: (id: string) => boolean): RotationPick | undefined {
    const owner = pickOwner(this.#lanes, this.#lastServed, new Map(), canStart);
    if (owner === undefined) return undefined;
    const lane = this.#lanes.get(owner) as QueuedEntry[];
    const entry = lane.shift() as QueuedEntry;
    if (lane.length === 0) this.#lanes.delete(owner);
    this.#lastServed.set(owner, ++this.#served);
    return { owner, id: entry.id };
  }

  /** Each owner's next job, for looking at what could start. */
  heads(): string[] {
    return [...this.#lanes.values()].flatMap((lane) => (lane[0] === undefined ? [] : [lane[0].id]));
  }

  /** Each queued job's place in line, 1 = starts next, as things stand now. */
  positions(): Map<string, number> {
    const lastServed = new Map(this.#lastServed);
    const taken = new Map<string, number>();
    const positions = new Map<string, number>();
    let clock = this.#served;
    for (let position = 1; ; position++) {
      const owner = pickOwner(this.#lanes, lastServed, taken);
      if (owner === undefined) return positions;
      const index = taken.get(owner) ?? 0;
      positions.set((this.#lanes.get(owner) as QueuedEntry[])[index]?.id as string, position);
      taken.set(owner, index + 1);
      lastServed.set(owner, ++clock);
    }
  }
}

/** The owner to serve next, skipping the first `taken[owner]` jobs of each lane (for looking ahead). */
function pickOwner(
  lanes: ReadonlyMap<string, QueuedEntry[]>,
  lastServed: ReadonlyMap<string, number>,
  taken: ReadonlyMap<string, number>,
  canStart?: (id: string) => boolean,
): string | undefined {
  let best: { owner: string; served: number; order: number } | undefined;
  for (const [owner, lane] of lanes) {
    const head = lane[taken.get(owner) ?? 0];
    if (head === undefined || (canStart !== undefined && !canStart(head.id))) continue;
    const served = lastServed.get(owner) ?? -1;
    if (best === undefined || served < best.served || (served === best.served && head.order < best.order)) {
      best = { owner, served, order: head.order };
    }
  }
  return best?.owner;
}

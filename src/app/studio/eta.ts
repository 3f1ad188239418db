/**
 * Time left in a job, from the pace of its sampling steps so far. Steps of all images count as one sequence
 * (image i's step s is step (i - 1) * steps + s of the job); the pace is measured from the first step this
 * estimator saw, so model loading before it does not count, while the decode between images does, spread over
 * the steps. Null until two steps apart have been seen.
 */
export interface EtaEstimator {
  /** Seconds left after this progress report, or null when there is no pace yet. */
  update(progress: { step: number; steps: number; image: number; images: number }, nowMs: number): number | null;
}

export function createEtaEstimator(): EtaEstimator {
  let first: { done: number; at: number } | null = null;
  return {
    update({ step, steps, image, images }, nowMs) {
      if (steps <= 0 || images <= 0) return null;
      const done = (image - 1) * steps + step;
      const total = steps * images;
      if (first === null || done < first.done) {
        first = { done, at: nowMs };
        return null;
      }
      const stepsTimed = done - first.done;
      if (stepsTimed < 1) return null;
      const secondsPerStep = (nowMs - first.at) / 1000 / stepsTimed;
      return Math.max(0, (total - done) * secondsPerStep);
    },
  };
}

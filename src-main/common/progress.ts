// The rate and time left of a long job (labelling, training), computed once for every caller.

export interface Throughput {
  /** Items finished per second since the start (0 before the first). */
  perSecond: number;
  /** Seconds left at that rate; null while unknown. */
  etaSeconds: number | null;
}

/**
 * Rate and time left after `finished` of `total` items in `elapsedSeconds`. The elapsed time counts
 * as at least half a second, so the first item does not promise an absurd rate.
 */
export function throughput(finished: number, total: number, elapsedSeconds: number): Throughput {
  const perSecond = finished > 0 ? finished / Math.max(elapsedSeconds, 0.5) : 0;
  const left = Math.max(0, total - finished);
  return { perSecond, etaSeconds: perSecond > 0 ? left / perSecond : null };
}

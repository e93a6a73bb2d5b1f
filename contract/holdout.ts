/**
 * Holdout groups: which entrants of a journey are held out (enter, send nothing, still wait for the goal) so that
 * conversion with and without the journey's messages can be compared. The assignment depends on the journey id and
 * the consumer id alone, so a consumer stays in the same group across versions and re-entries. Sandbox-safe: the
 * interpreter computes it at a run's start.
 */

/** The number of buckets a consumer is hashed into: a percentage with two decimals names a whole number of them. */
export const HOLDOUT_BUCKETS = 10_000;

/** The largest share of entrants a journey may hold out, in percent. */
export const MAX_HOLDOUT_PERCENT = 50;

/** A journey's holdout setting: `percent` of its entrants (0 to 50, two decimals at most) are held out. */
export interface Holdout {
  percent: number;
}

/**
 * The consumer's bucket for the journey, 0 to {@link HOLDOUT_BUCKETS} - 1: FNV-1a (32 bits) over the UTF-16 code
 * units of `journeyId:consumerId`, then MurmurHash3's finaliser so that ids differing only in their last characters
 * spread over every bucket.
 */
export function holdoutBucket(journeyId: string, consumerId: string): number {
  const key = `${journeyId}:${consumerId}`;
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return (hash >>> 0) % HOLDOUT_BUCKETS;
}

/** True when the consumer falls in the journey's holdout: its bucket is below `percent` of the buckets. */
export function isHeldOut(holdout: Holdout | undefined, journeyId: string, consumerId: string): boolean {
  if (!holdout || holdout.percent <= 0) return false;
  const threshold = Math.round((holdout.percent * HOLDOUT_BUCKETS) / 100);
  return holdoutBucket(journeyId, consumerId) < threshold;
}

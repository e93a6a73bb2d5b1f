/**
 * The simulation's per-consumer choices, from the seed alone: the same request gives the same events, attributes
 * and delivery outcomes to the same consumers whatever order their runs happen to go in.
 */

/** A number in [0, 1) from the seed and the parts naming the choice (consumer id, what is chosen). */
export function uniform(seed: string | number, ...parts: (string | number)[]): number {
  const key = [String(seed), ...parts.map(String)].join('\u0000');
  // FNV-1a over the UTF-16 code units, then MurmurHash3's finaliser (as contract/holdout.ts).
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
  return (hash >>> 0) / 4_294_967_296;
}

/** A seeded generator of numbers in [0, 1) (mulberry32), for draws whose order is fixed. */
export function generator(seed: string | number): () => number {
  let state = Math.floor(uniform(seed, 'generator') * 4_294_967_296);
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** The index chosen by `draw` in [0, 1) among `weights` (not necessarily summing to 1). */
export function pick(draw: number, weights: number[]): number {
  const total = weights.reduce((sum, w) => sum + w, 0);
  let at = draw * total;
  for (let i = 0; i < weights.length; i++) {
    at -= weights[i]!;
    if (at < 0) return i;
  }
  return weights.length - 1;
}

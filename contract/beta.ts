/**
 * Beta posteriors of a Bernoulli rate (the learned channel policy's arms): draws, Monte Carlo win probabilities and
 * credible intervals. Pure: the random source is passed in, so a seeded one (`seededRandom`) repeats a run exactly.
 */

/** A uniform random number in [0, 1), like `Math.random`. */
export type Random = () => number;

/** A Beta(alpha, beta) distribution: the prior Beta(1, 1) plus successes and failures. */
export interface BetaParams {
  alpha: number;
  beta: number;
}

/** A small fast PRNG (mulberry32) for repeatable simulations and tests; not for secrets. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal draw (Box-Muller). */
function normal(random: Random): number {
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** A Gamma(shape, 1) draw (Marsaglia and Tsang; shapes below 1 boosted by U^(1/shape)). */
export function sampleGamma(shape: number, random: Random): number {
  if (shape < 1) return sampleGamma(shape + 1, random) * Math.pow(1 - random(), 1 / shape);
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(random);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = 1 - random();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/** A Beta(alpha, beta) draw, as X / (X + Y) of two Gamma draws. */
export function sampleBeta({ alpha, beta }: BetaParams, random: Random): number {
  const x = sampleGamma(alpha, random);
  const y = sampleGamma(beta, random);
  return x + y === 0 ? 0.5 : x / (x + y);
}

/** The posterior mean alpha / (alpha + beta). */
export function betaMean({ alpha, beta }: BetaParams): number {
  return alpha / (alpha + beta);
}

/** ln Γ(x) (Lanczos, g = 7), for x > 0. */
function logGamma(x: number): number {
  const g = 7;
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - logGamma(1 - x);
  const z = x - 1;
  let sum = c[0]!;
  for (let i = 1; i < g + 2; i++) sum += c[i]! / (z + i);
  const t = z + g + 0.5;
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(sum);
}

/** The continued fraction of the regularized incomplete beta function (modified Lentz). */
function betaFraction(x: number, a: number, b: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let aa = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    aa = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + aa * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + aa / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-12) break;
  }
  return h;
}

/** P(X <= x) for X ~ Beta(alpha, beta): the regularized incomplete beta function I_x(alpha, beta). */
export function betaCdf(x: number, { alpha, beta }: BetaParams): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(
    logGamma(alpha + beta) - logGamma(alpha) - logGamma(beta) + alpha * Math.log(x) + beta * Math.log(1 - x),
  );
  if (x < (alpha + 1) / (alpha + beta + 2)) return (front * betaFraction(x, alpha, beta)) / alpha;
  return 1 - (front * betaFraction(1 - x, beta, alpha)) / beta;
}

/** The `p` quantile of Beta(alpha, beta), by bisection on {@link betaCdf} (to 1e-9). */
export function betaQuantile(p: number, params: BetaParams): number {
  let low = 0;
  let high = 1;
  for (let i = 0; i < 60; i++) {
    const mid = (low + high) / 2;
    if (betaCdf(mid, params) < p) low = mid;
    else high = mid;
  }
  return (low + high) / 2;
}

/** The equal-tailed credible interval holding `mass` of the posterior (95 % by default). */
export function credibleInterval(params: BetaParams, mass = 0.95): [number, number] {
  const tail = (1 - mass) / 2;
  return [betaQuantile(tail, params), betaQuantile(1 - tail, params)];
}

/** One arm of a Thompson draw: its posterior and the penalty subtracted from its draws (cost weight × unit cost). */
export interface Arm<K extends string> {
  key: K;
  posterior: BetaParams;
  penalty: number;
}

/** Draws one value per arm and returns the arm with the highest draw minus its penalty (ties: the first arm). */
export function thompsonDraw<K extends string>(
  arms: Arm<K>[],
  random: Random,
): { samples: Record<K, number>; scores: Record<K, number>; best: K | undefined } {
  const samples = {} as Record<K, number>;
  const scores = {} as Record<K, number>;
  let best: K | undefined;
  for (const arm of arms) {
    samples[arm.key] = sampleBeta(arm.posterior, random);
    scores[arm.key] = samples[arm.key] - arm.penalty;
    if (best === undefined || scores[arm.key] > scores[best]) best = arm.key;
  }
  return { samples, scores, best };
}

/**
 * Each arm's probability of winning a Thompson draw (highest draw minus penalty), estimated from `draws` Monte Carlo
 * draws: the probability the policy chooses it when every arm is available.
 */
export function winProbabilities<K extends string>(arms: Arm<K>[], random: Random, draws = 1000): Record<K, number> {
  const wins = Object.fromEntries(arms.map((arm) => [arm.key, 0])) as Record<K, number>;
  for (let i = 0; i < draws; i++) {
    const { best } = thompsonDraw(arms, random);
    if (best !== undefined) wins[best] += 1;
  }
  for (const arm of arms) wins[arm.key] /= draws;
  return wins;
}

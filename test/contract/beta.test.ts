/** Beta posteriors: quantiles against closed forms, draws against their moments, win probabilities. */
import assert from 'node:assert/strict';
import {
  type Arm,
  betaCdf,
  betaMean,
  betaQuantile,
  credibleInterval,
  sampleBeta,
  seededRandom,
  thompsonDraw,
  winProbabilities,
} from '../../contract/beta';

const close = (actual: number, expected: number, tolerance: number) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not ${expected} within ${tolerance}`);

describe('contract/beta', () => {
  it('gives the CDF and quantiles of closed forms: Beta(1, 1) is uniform, Beta(2, 1) has CDF x², Beta(1, 3) 1-(1-x)³', () => {
    close(betaCdf(0.3, { alpha: 1, beta: 1 }), 0.3, 1e-9);
    close(betaCdf(0.3, { alpha: 2, beta: 1 }), 0.09, 1e-9);
    close(betaCdf(0.3, { alpha: 1, beta: 3 }), 1 - 0.7 ** 3, 1e-9);
    close(betaQuantile(0.025, { alpha: 1, beta: 1 }), 0.025, 1e-8);
    close(betaQuantile(0.5, { alpha: 2, beta: 1 }), Math.sqrt(0.5), 1e-8);
    close(betaQuantile(0.975, { alpha: 1, beta: 3 }), 1 - Math.cbrt(0.025), 1e-8);
  });

  it('gives the 95 % interval of Beta(31, 71) (30 successes in 100 trials): [0.218979, 0.396147]', () => {
    // mpmath (30 digits), bisection on betainc(31, 71, 0, x, regularized=True): 0.2189787263040341, 0.3961471286476890
    const [low, high] = credibleInterval({ alpha: 31, beta: 71 });
    close(low, 0.2189787263040341, 1e-8);
    close(high, 0.396147128647689, 1e-8);
    close(betaMean({ alpha: 31, beta: 71 }), 31 / 102, 1e-12);
  });

  it('draws with the distribution mean and variance (Beta(2, 8) and Beta(0.5, 0.5))', () => {
    for (const params of [
      { alpha: 2, beta: 8 },
      { alpha: 0.5, beta: 0.5 },
    ]) {
      const random = seededRandom(7);
      const n = 20_000;
      const draws = Array.from({ length: n }, () => sampleBeta(params, random));
      const mean = draws.reduce((a, b) => a + b, 0) / n;
      const variance = draws.reduce((a, b) => a + (b - mean) ** 2, 0) / n;
      const { alpha, beta } = params;
      close(mean, alpha / (alpha + beta), 0.01);
      close(variance, (alpha * beta) / ((alpha + beta) ** 2 * (alpha + beta + 1)), 0.005);
      assert.ok(draws.every((x) => x >= 0 && x <= 1));
    }
  });

  it('estimates win probabilities that sum to 1 and favour the arm with more successes, less its penalty', () => {
    const arms: Arm<'email' | 'sms'>[] = [
      { key: 'email', posterior: { alpha: 11, beta: 91 }, penalty: 0 },
      { key: 'sms', posterior: { alpha: 31, beta: 71 }, penalty: 0 },
    ];
    const p = winProbabilities(arms, seededRandom(1), 1000);
    close(p.email + p.sms, 1, 1e-12);
    assert.ok(p.sms > 0.99, `sms wins ${p.sms}`);
    // A penalty of 0.5 on sms (cost weight × unit cost) makes email the better bet.
    const penalised = winProbabilities([arms[0]!, { ...arms[1]!, penalty: 0.5 }], seededRandom(1), 1000);
    assert.ok(penalised.email > 0.99, `email wins ${penalised.email}`);
    const draw = thompsonDraw(arms, seededRandom(2));
    assert.equal(draw.best, draw.scores.sms > draw.scores.email ? 'sms' : 'email');
  });
});

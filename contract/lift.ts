/**
 * The comparison of two conversion rates that journey analytics report for holdout groups and random-split paths:
 * absolute and relative lift, and a 95 % confidence interval of the absolute lift by the normal approximation of
 * the difference of two proportions with the unpooled standard error (Wald). Pure arithmetic.
 */

/** z for a two-sided 95 % interval: the 97.5th percentile of the standard normal distribution. */
export const Z_95 = 1.959963984540054;

/** Fewest entrants a group needs before the normal approximation is used. */
export const MIN_GROUP_SIZE = 30;

/** Fewest conversions, and fewest non-conversions, each group needs (the n·p ≥ 5 and n·(1-p) ≥ 5 rule). */
export const MIN_OUTCOMES = 5;

/** The entrants of one group and how many of them converted. */
export interface GroupConversion {
  entered: number;
  converted: number;
  /** converted / entered; null when none entered. */
  conversionRate: number | null;
}

/** How a group (treated, a split path) compares with its baseline (held out, the first path). */
export interface Lift {
  /** rate - baseline rate; null when either group has no entrants. */
  absoluteLift: number | null;
  /** (rate - baseline rate) / baseline rate; null when either group has no entrants or the baseline rate is 0. */
  relativeLift: number | null;
  /**
   * The 95 % confidence interval of `absoluteLift`: absoluteLift ± 1.96 · √(p₁(1-p₁)/n₁ + p₀(1-p₀)/n₀); null when
   * `sufficient` is false.
   */
  confidenceInterval: { lower: number; upper: number } | null;
  /** Both groups are large enough for the normal approximation (see `insufficient`). */
  sufficient: boolean;
  /** Why the samples are too small for an interval (`held out: 12 entrants, fewer than 30`); null when sufficient. */
  insufficient: string | null;
}

/** A group's figures with its rate. */
export function groupConversion(entered: number, converted: number): GroupConversion {
  return { entered, converted, conversionRate: entered === 0 ? null : converted / entered };
}

/** Why `group` (named `name`) is too small for the normal approximation, if it is. */
function smallness(name: string, group: GroupConversion): string | undefined {
  if (group.entered < MIN_GROUP_SIZE) return `${name}: ${group.entered} entrants, fewer than ${MIN_GROUP_SIZE}`;
  if (group.converted < MIN_OUTCOMES) return `${name}: ${group.converted} conversions, fewer than ${MIN_OUTCOMES}`;
  const notConverted = group.entered - group.converted;
  if (notConverted < MIN_OUTCOMES) return `${name}: ${notConverted} entrants not converted, fewer than ${MIN_OUTCOMES}`;
  return undefined;
}

/**
 * Compares `group` with `baseline`; `names` label them in {@link Lift.insufficient}. The interval is given only when
 * both groups have at least {@link MIN_GROUP_SIZE} entrants and at least {@link MIN_OUTCOMES} conversions and
 * non-conversions each: below that the normal approximation is not to be trusted.
 */
export function compareConversion(
  group: GroupConversion,
  baseline: GroupConversion,
  names: { group: string; baseline: string },
): Lift {
  const problems = [smallness(names.group, group), smallness(names.baseline, baseline)].filter(
    (problem): problem is string => problem !== undefined,
  );
  const insufficient = problems.length ? problems.join('; ') : null;
  const p1 = group.conversionRate;
  const p0 = baseline.conversionRate;
  if (p1 === null || p0 === null) {
    return { absoluteLift: null, relativeLift: null, confidenceInterval: null, sufficient: false, insufficient };
  }
  const absoluteLift = p1 - p0;
  const relativeLift = p0 === 0 ? null : absoluteLift / p0;
  if (insufficient) return { absoluteLift, relativeLift, confidenceInterval: null, sufficient: false, insufficient };
  const standardError = Math.sqrt((p1 * (1 - p1)) / group.entered + (p0 * (1 - p0)) / baseline.entered);
  const margin = Z_95 * standardError;
  return {
    absoluteLift,
    relativeLift,
    confidenceInterval: { lower: absoluteLift - margin, upper: absoluteLift + margin },
    sufficient: true,
    insufficient: null,
  };
}

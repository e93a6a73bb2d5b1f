/**
 * `npm run bench:bandit`: regret curves of the learned channel policy. Synthetic consumers answer each channel at a
 * known rate; every round is one learned send through the real channel decision and the real posterior updates, in an
 * embedded PostgreSQL of its own (or `DATABASE_URL`, where each run uses a topic of its own). Prints, averaged over
 * seeds, the cumulative regret (expected rewards lost against always sending on the best channel) of the policy and
 * of a uniformly random choice, and the share of rounds on the best channel, at checkpoints.
 *
 *   npm run bench:bandit -- [--rounds 1000] [--seeds 5] [--rates email=0.1,sms=0.3,voice=0.2]
 *                           [--cost-weight 0 --costs email=0.0004,sms=0.0083,voice=0.014,print=0.75] [--json]
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { freePort } from '../dev/ports';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Channel } from '../contract/channels';
import { startEmbeddedPostgres } from '../dev/embedded-postgres';
import { migrateLatest } from '../migrations';
import { createDb } from '../runtime/db';
import { type BanditResult, shareOf, simulateLearnedChoice } from './bandit-simulation';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '1000' },
    seeds: { type: 'string', default: '5' },
    rates: { type: 'string', default: 'email=0.1,sms=0.3,voice=0.2' },
    'cost-weight': { type: 'string', default: '0' },
    costs: { type: 'string', default: 'email=0.0004,sms=0.0083,voice=0.014,print=0.75' },
    json: { type: 'boolean', default: false },
  },
});

/** `email=0.1,sms=0.3` as numbers per channel. */
function perChannel(text: string): Partial<Record<Channel, number>> {
  return Object.fromEntries(
    text.split(',').map((pair) => {
      const [channel, value] = pair.split('=');
      const number = Number(value);
      if (!channel || !Number.isFinite(number)) throw new Error(`Not channel=number: ${pair}`);
      return [channel.trim(), number];
    }),
  );
}

async function main(): Promise<void> {
  const rounds = Number(args.rounds);
  const seeds = Number(args.seeds);
  const rates = perChannel(args.rates);
  const costWeight = Number(args['cost-weight']);
  const costs = { email: 0, sms: 0, voice: 0, print: 0, ...perChannel(args.costs) };
  let dataDir: string | undefined;
  let stop = async () => {};
  let url = process.env.DATABASE_URL;
  if (!url) {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'je-bandit-'));
    await chmod(dataDir, 0o755); // as root, the embedded PostgreSQL runs as the `postgres` user
    const server = await startEmbeddedPostgres({
      dataDir: path.join(dataDir, 'data'),
      port: await freePort(),
      database: 'bandit',
    });
    url = server.url;
    stop = () => server.stop();
  }
  const db = createDb(url);
  try {
    await migrateLatest(db);
    const results: BanditResult[] = [];
    const started = Date.now();
    for (let seed = 1; seed <= seeds; seed++) {
      const topic = `bandit-${Date.now().toString(36)}-${seed}`;
      results.push(await simulateLearnedChoice(db, { topic, rates, rounds, seed, costWeight, costs }));
    }
    const seconds = (Date.now() - started) / 1000;
    const best = results[0]!.best;
    const checkpoints = [10, 25, 50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000].filter((n) => n <= rounds);
    if (!checkpoints.includes(rounds)) checkpoints.push(rounds);
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    const rows = checkpoints.map((n) => ({
      round: n,
      regret: mean(results.map((r) => r.regret[n - 1]!)),
      regretMin: Math.min(...results.map((r) => r.regret[n - 1]!)),
      regretMax: Math.max(...results.map((r) => r.regret[n - 1]!)),
      uniformRegret: results[0]!.uniformRegret[n - 1]!,
      // Share of the rounds since the previous checkpoint that went to the best channel.
      bestShare: mean(
        results.map((r) => shareOf(r.chosen.slice(0, n), best, checkpoints[checkpoints.indexOf(n) - 1] ?? 0)),
      ),
    }));
    const report = {
      rates,
      costWeight,
      best,
      rounds,
      seeds,
      seconds,
      decisionsPerSecond: (rounds * seeds) / seconds,
      finalWinProbabilities: results.map((r) => r.finalWinProbabilities),
      curve: rows,
    };
    if (args.json) {
      console.log(JSON.stringify(report, null, 2));
      return;
    }
    console.log(
      `learned channel choice: rates ${args.rates}, cost weight ${costWeight}; best fixed channel ${best}; ` +
        `${rounds} rounds x ${seeds} seeds in ${seconds.toFixed(1)} s (${report.decisionsPerSecond.toFixed(0)} decisions/s)`,
    );
    console.log('');
    console.log('| round | regret (mean) | regret (min-max) | uniform random | on best channel since previous row |');
    console.log('|---:|---:|---:|---:|---:|');
    for (const row of rows) {
      console.log(
        `| ${row.round} | ${row.regret.toFixed(1)} | ${row.regretMin.toFixed(1)}-${row.regretMax.toFixed(1)} | ` +
          `${row.uniformRegret.toFixed(1)} | ${(row.bestShare * 100).toFixed(0)} % |`,
      );
    }
    console.log('');
    console.log(
      'final win probabilities: ' +
        results
          .map((r) =>
            Object.entries(r.finalWinProbabilities)
              .map(([c, p]) => `${c} ${(p * 100).toFixed(1)} %`)
              .join(', '),
          )
          .join(' | '),
    );
  } finally {
    await db.destroy();
    await stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

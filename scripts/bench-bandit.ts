/**
 * `npm run bench:bandit`: regret curves of the learned channel policy. Synthetic consumers answer each channel at a
 * known rate; every round is one learned send through the real channel decision and the real posterior updates, in an
 * embedded PostgreSQL of its own (or `DATABASE_URL`, where each run uses a topic of its own). Prints, averaged over
 * seeds, the cumulative regret (expected rewards lost against always sending on the best channel) of the policy and
 * of a uniformly random choice, and the share of rounds on the best channel, at checkpoints.
 *
 * `--via simulation` measures the same through the journey simulation instead (journeys/simulation): a journey of
 * one learned send, `--consumers` synthetic consumers entering over `--over`, answering each channel at its rate
 * within a day of the message; the simulation's report gives the choices by tenth of the entrants and the regret.
 *
 *   npm run bench:bandit -- [--rounds 1000] [--seeds 5] [--rates email=0.1,sms=0.3,voice=0.2]
 *                           [--cost-weight 0 --costs email=0.0004,sms=0.0083,voice=0.014,print=0.75] [--json]
 *   npm run bench:bandit -- --via simulation [--consumers 1000] [--over '30 days'] [--seeds 3] [--rates ...] [--json]
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { freePort } from '../dev/ports';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { type Channel, channels as allChannels } from '../contract/channels';
import type { JourneyDefinition } from '../contract/journey-definition';
import { startEmbeddedPostgres } from '../dev/embedded-postgres';
import { simulateJourney } from '../journeys/simulation/engine';
import type { LearnedStepReport } from '../journeys/simulation/report';
import { migrateLatest } from '../migrations';
import { loadConfig } from '../runtime/config';
import { createDb, type Db } from '../runtime/db';
import { type BanditResult, shareOf, simulateLearnedChoice } from './bandit-simulation';

const { values: args } = parseArgs({
  options: {
    rounds: { type: 'string', default: '1000' },
    seeds: { type: 'string', default: '5' },
    rates: { type: 'string', default: 'email=0.1,sms=0.3,voice=0.2' },
    'cost-weight': { type: 'string', default: '0' },
    costs: { type: 'string', default: 'email=0.0004,sms=0.0083,voice=0.014,print=0.75' },
    via: { type: 'string', default: 'decision' },
    consumers: { type: 'string', default: '1000' },
    over: { type: 'string', default: '30 days' },
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

/** A journey of one learned send on the channels of `rates`; the goal within 3 days, else the run ends. */
export function learnedJourney(rates: Partial<Record<Channel, number>>, costWeight: number): JourneyDefinition {
  const offered = allChannels.filter((c) => rates[c] !== undefined);
  const text = { subject: 'Your bill', text: 'Your bill {{ trigger.data.billId }} is due' };
  return {
    id: 'bench-learned',
    name: 'Learned nudge (benchmark)',
    topic: 'bench-learned',
    trigger: { event: 'bill.issued' },
    reentry: { policy: 'after-exit' },
    goals: [{ event: 'payment.received' }],
    exits: [],
    start: 'nudge',
    steps: [
      {
        id: 'nudge',
        type: 'send',
        channels: offered,
        policy: 'learned',
        rewardWindow: '3 days',
        costWeight,
        templates: Object.fromEntries(offered.map((c) => [c, text])),
        next: 'wait',
      },
      { id: 'wait', type: 'wait', duration: '3 days', next: 'done' },
      { id: 'done', type: 'exit' },
    ],
  };
}

/** `--via simulation`: the regret of the learned step over entrants, through the journey simulation. */
async function viaSimulation(
  db: Db,
  options: { seeds: number; consumers: number; over: string; rates: Partial<Record<Channel, number>> },
  costWeight: number,
  costs: Record<Channel, number>,
): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const definition = learnedJourney(options.rates, costWeight);
  const settings = { ...loadConfig({}).channels, costs };
  const results: { seed: number; seconds: number; learned: LearnedStepReport; converted: number }[] = [];
  for (let seed = 1; seed <= options.seeds; seed++) {
    const started = Date.now();
    const report = await simulateJourney(
      { journey: { journeyId: definition.id, version: 0, definition }, label: 'definition' },
      {
        sample: { synthetic: { count: options.consumers, contact: { email: 1, phone: 1, postalAddress: 1 } } },
        trigger: { data: { billId: 'B-1' } },
        arrivals: { over: options.over },
        responses: { rates: options.rates, after: '1 hour', spread: '1 day' },
        horizon: '4 days',
        seed,
        consumers: false,
      },
      { db, settings, timeoutMs: 30 * 60_000 },
    );
    results.push({
      seed,
      seconds: (Date.now() - started) / 1000,
      learned: report.learning[0]!,
      converted: report.runs.converted,
    });
    if (!args.json) process.stderr.write(`seed ${seed}: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }
  if (args.json) {
    console.log(JSON.stringify({ via: 'simulation', ...options, costWeight, results }, null, 2));
    return;
  }
  const best = results[0]!.learned.regret!.bestChannel;
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const share = (chosen: Record<Channel, number>) => {
    const total = Object.values(chosen).reduce((a, b) => a + b, 0);
    return total === 0 ? 0 : chosen[best] / total;
  };
  console.log(
    `learned channel choice through the simulation: rates ${args.rates}, cost weight ${costWeight}; best channel ` +
      `${best}; ${options.consumers} consumers entering over ${options.over} x ${options.seeds} seeds ` +
      `(${results.map((r) => `${r.seconds.toFixed(1)} s`).join(', ')})`,
  );
  console.log('');
  console.log(`| entrants | on ${best} (mean) | on ${best} (min-max) | regret (mean) | uniform random |`);
  console.log('|---:|---:|---:|---:|---:|');
  for (let tenth = 0; tenth < 10; tenth++) {
    const rows = results.map((r) => r.learned.byTenth[tenth]!);
    const shares = rows.map((row) => share(row.chosen));
    const { first, last } = rows[0]!.entrants;
    console.log(
      `| ${first}-${last} | ${(mean(shares) * 100).toFixed(0)} % | ${(Math.min(...shares) * 100).toFixed(0)}-` +
        `${(Math.max(...shares) * 100).toFixed(0)} % | ${mean(rows.map((row) => row.regret!.policy)).toFixed(1)} | ` +
        `${mean(rows.map((row) => row.regret!.uniform)).toFixed(1)} |`,
    );
  }
  console.log('');
  for (const { seed, learned, converted } of results) {
    const regret = learned.regret!;
    console.log(
      `seed ${seed}: regret ${regret.policy.toFixed(1)} (uniform ${regret.uniform.toFixed(1)}) of ` +
        `${regret.expected.best.toFixed(1)} expected on ${best}; ${converted} converted; posteriors ` +
        learned.posteriors.map((p) => `${p.channel} ${p.mean} (${p.trials})`).join(', '),
    );
  }
  console.log(
    `mean regret ${mean(results.map((r) => r.learned.regret!.policy)).toFixed(1)}, uniform ` +
      `${mean(results.map((r) => r.learned.regret!.uniform)).toFixed(1)}`,
  );
}

async function main(): Promise<void> {
  const rounds = Number(args.rounds);
  const seeds = Number(args.seeds);
  const rates = perChannel(args.rates);
  const costWeight = Number(args['cost-weight']);
  const costs = { email: 0, sms: 0, voice: 0, print: 0, ...perChannel(args.costs) };
  if (args.via !== 'decision' && args.via !== 'simulation') throw new Error('--via is decision or simulation');
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
    if (args.via === 'simulation') {
      const options = { seeds, consumers: Number(args.consumers), over: args.over, rates };
      await viaSimulation(db, options, costWeight, costs);
      return;
    }
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

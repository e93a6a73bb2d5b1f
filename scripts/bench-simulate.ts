/**
 * `npm run bench:simulate`: how long a simulation takes. Seeds an embedded PostgreSQL of its own (or `DATABASE_URL`)
 * with consumers, then simulates a month of a branching journey (email, wait for an order, by plan an SMS or a
 * second email, a last email after a week) over them, with scripted orders and payments, a few times; prints the
 * wall-clock time of each simulation (start-up of its test server included) and what it simulated.
 *
 *   npm run bench:simulate -- [--consumers 1000] [--horizon '30 days'] [--repeat 3] [--synthetic] [--json]
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { freePort } from '../dev/ports';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { JourneyDefinition } from '../contract/journey-definition';
import { startEmbeddedPostgres } from '../dev/embedded-postgres';
import { simulateJourney } from '../journeys/simulation/engine';
import type { SimulationReport } from '../journeys/simulation/report';
import type { SimulationRequest } from '../journeys/simulation/request';
import { migrateLatest } from '../migrations';
import { loadConfig } from '../runtime/config';
import { createDb } from '../runtime/db';

const { values: args } = parseArgs({
  options: {
    consumers: { type: 'string', default: '1000' },
    horizon: { type: 'string', default: '30 days' },
    repeat: { type: 'string', default: '3' },
    synthetic: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
  },
});

/** The benchmark's journey: five sends at most, three waits, a branch. */
export const benchJourney: JourneyDefinition = {
  id: 'bench-onboarding',
  name: 'Onboarding (benchmark)',
  topic: 'onboarding',
  trigger: { event: 'signed.up' },
  reentry: { policy: 'after-exit' },
  goals: [{ event: 'payment.received' }],
  exits: [],
  start: 'welcome',
  steps: [
    {
      id: 'welcome',
      type: 'send',
      channels: ['email', 'sms'],
      templates: {
        email: {
          subject: 'Welcome {{ consumer.attributes.firstName }}',
          text: 'Hello {{ consumer.attributes.firstName }}',
        },
        sms: { text: 'Welcome {{ consumer.attributes.firstName }}' },
      },
      next: 'await-order',
    },
    {
      id: 'await-order',
      type: 'wait-for-event',
      match: { event: 'order.placed' },
      timeout: '3 days',
      next: 'thanks',
      onTimeout: 'by-plan',
    },
    {
      id: 'thanks',
      type: 'send',
      channels: ['email'],
      templates: { email: { subject: 'Thanks', text: 'Thank you for your order' } },
      next: 'done',
    },
    {
      id: 'by-plan',
      type: 'branch',
      branches: [{ when: { path: 'consumer.attributes.plan', op: 'eq', value: 'premium' }, next: 'sms-nudge' }],
      default: 'email-nudge',
    },
    { id: 'sms-nudge', type: 'send', channels: ['sms'], templates: { sms: { text: 'Order now' } }, next: 'week' },
    {
      id: 'email-nudge',
      type: 'send',
      channels: ['email'],
      templates: { email: { subject: 'Still there?', text: 'Order now' } },
      next: 'week',
    },
    { id: 'week', type: 'wait', duration: '7 days', next: 'last-call' },
    {
      id: 'last-call',
      type: 'send',
      channels: ['email'],
      templates: { email: { subject: 'Last call', text: 'Offer ends soon' } },
      next: 'done',
    },
    { id: 'done', type: 'exit' },
  ],
};

async function main(): Promise<void> {
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const count = Number(args.consumers);
  const repeat = Number(args.repeat);
  let dataDir: string | undefined;
  let stop = async () => {};
  let url = process.env.DATABASE_URL;
  // Synthetic consumers need no rows, but the simulation still reads the journey's topic.
  if (!url) {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'je-simulate-'));
    await chmod(dataDir, 0o755); // as root, the embedded PostgreSQL runs as the `postgres` user
    const server = await startEmbeddedPostgres({
      dataDir: path.join(dataDir, 'data'),
      port: await freePort(),
      database: 'simulate',
    });
    url = server.url;
    stop = () => server.stop();
  }
  const db = createDb(url);
  const tag = `bench-${Date.now().toString(36)}`;
  try {
    await migrateLatest(db);
    if (!args.synthetic) {
      const rows = Array.from({ length: count }, (_, n) => ({
        id: `${tag}-${String(n).padStart(5, '0')}`,
        email: n % 10 === 9 ? null : `${tag}-${n}@example.com`,
        phone: n % 2 === 0 ? `+1415${String(2_000_000 + n)}` : null,
        attributes: JSON.stringify({ tag, plan: n % 4 === 0 ? 'premium' : 'basic', firstName: `C${n}` }),
      }));
      for (let i = 0; i < rows.length; i += 500) await db('consumers').insert(rows.slice(i, i + 500));
    }
    const request: SimulationRequest = {
      sample: args.synthetic
        ? {
            synthetic: {
              count,
              contact: { email: 0.9, phone: 0.5 },
              attributes: {
                plan: [
                  { value: 'premium', share: 0.25 },
                  { value: 'basic', share: 0.75 },
                ],
              },
            },
          }
        : { filter: { attributes: { tag } }, limit: count },
      events: [
        { type: 'order.placed', after: '2 days', share: 0.3 },
        { type: 'payment.received', after: '8 days', spread: '10 days', share: 0.2 },
      ],
      horizon: args.horizon,
      seed: 1,
      consumers: false,
    };
    const settings = { ...loadConfig({}).channels, ...loadConfig(process.env).channels };
    const runs: { wallMs: number; report: SimulationReport }[] = [];
    for (let i = 0; i < repeat; i++) {
      const started = Date.now();
      const report = await simulateJourney(
        { journey: { journeyId: benchJourney.id, version: 0, definition: benchJourney }, label: 'draft' },
        request,
        {
          db,
          settings,
          timeoutMs: 30 * 60_000,
        },
      );
      runs.push({ wallMs: Date.now() - started, report });
      if (!args.json)
        console.log(
          `run ${i + 1}: ${((Date.now() - started) / 1000).toFixed(1)} s for ${report.runs.total} consumers over ${report.horizon} ` +
            `(${report.messages.sent.total} messages, ${report.runs.converted} converted, journey time covered ${report.journeyTime.text})`,
        );
    }
    const sorted = runs.map((r) => r.wallMs).sort((a, b) => a - b);
    const median = sorted[Math.floor(sorted.length / 2)]!;
    const last = runs[runs.length - 1]!.report;
    const summary = {
      consumers: count,
      sample: args.synthetic ? 'synthetic' : 'real (seeded PostgreSQL)',
      horizon: args.horizon,
      cpus: os.cpus().length,
      loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
      wallSeconds: runs.map((r) => Number((r.wallMs / 1000).toFixed(1))),
      medianSeconds: Number((median / 1000).toFixed(1)),
      runs: last.runs,
      messages: last.messages.sent,
      skipped: last.messages.skipped,
      cost: last.cost,
      duration: { p50: last.duration.p50?.text, p90: last.duration.p90?.text },
    };
    console.log(
      args.json ? JSON.stringify(summary, null, 2) : `median ${summary.medianSeconds} s; ${JSON.stringify(summary)}`,
    );
  } finally {
    if (!args.synthetic)
      await db('consumers')
        .where('id', 'like', `${tag}-%`)
        .delete()
        .catch(() => undefined);
    await db.destroy();
    await stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

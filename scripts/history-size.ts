/**
 * `npm run bench:history`: the Temporal history one journey run leaves, in events and bytes. Runs the shipped
 * bill reminder and a 5-step journey (send, wait, send, wait for an event with a timeout, send; a goal) on the
 * embedded stack (Temporal dev server, PostgreSQL, the workers, payloads encrypted as under `npm start`),
 * started as the journey router starts a run, then prints each run's history: events, bytes as the server
 * stores them (protobuf) and as exported (JSON), and with `--by-type` the events by type.
 *
 *   npm run bench:history -- [--wait '2 seconds'] [--by-type] [--plain]
 *
 * The waits are shortened (`--wait`) so the runs end in seconds; a wait's length is not in its history's shape.
 */
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { freePort } from '../dev/ports';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { eventSignal, type JourneyRunInput, stateQuery } from '../contract/journey-run';
import type { JourneyEvent } from '../contract/events';
import type { JourneyDefinition } from '../contract/journey-definition';
import { searchAttributes } from '../contract/search-attributes';
import { journeyWorkflowId } from '../contract/workflow-ids';
import { developmentEncryptionKey } from '../dev/encryption-key';
import { startStack } from '../dev/stack';
import { billReminderJourney } from '../journeys/shipped';
import { loadConfig } from '../runtime/config';
import { createLogger, installTemporalLogging } from '../runtime/logger';
import { historyToJson } from '../runtime/temporal-history';
import { upsertConsumer } from '../stores/consumers';

const { values: args } = parseArgs({
  options: {
    wait: { type: 'string', default: '2 seconds' },
    'by-type': { type: 'boolean', default: false },
    plain: { type: 'boolean', default: false },
  },
});

/** The 5-step journey of the history target (issue 11): send, wait, send, wait for an event, send; a goal. */
export function fiveStepJourney(wait: string): JourneyDefinition {
  return {
    id: 'five-steps',
    name: 'Five steps',
    topic: 'billing',
    trigger: { event: 'bill.issued' },
    reentry: { policy: 'after-exit' },
    goals: [{ event: 'payment.received' }],
    exits: [],
    start: 'send-email',
    steps: [
      {
        id: 'send-email',
        type: 'send',
        channels: ['email'],
        templates: {
          email: {
            subject: 'Your bill {{ trigger.data.billId }} is ready',
            text: 'Hello {{ consumer.attributes.firstName }}, your bill {{ trigger.data.billId }} is due on {{ trigger.data.dueDate }}.',
          },
        },
        next: 'wait-a-bit',
      },
      { id: 'wait-a-bit', type: 'wait', duration: wait, next: 'send-sms' },
      {
        id: 'send-sms',
        type: 'send',
        channels: ['sms'],
        templates: { sms: { text: 'Bill {{ trigger.data.billId }} is due on {{ trigger.data.dueDate }}.' } },
        next: 'wait-for-view',
      },
      {
        id: 'wait-for-view',
        type: 'wait-for-event',
        match: { event: 'bill.viewed' },
        timeout: wait,
        next: 'send-thanks',
        onTimeout: 'send-thanks',
      },
      {
        id: 'send-thanks',
        type: 'send',
        channels: ['email'],
        templates: {
          email: { subject: 'Thank you', text: 'Thank you for looking at bill {{ trigger.data.billId }}.' },
        },
        next: 'done',
      },
      { id: 'done', type: 'exit' },
    ],
  };
}

/** What one run left in Temporal. */
interface HistoryFigures {
  journey: string;
  status: string;
  events: number;
  protoBytes: number;
  /** The size the server counts against its history size limit, as of the run's last workflow task. */
  serverBytes: number;
  jsonBytes: number;
  byType: Record<string, number>;
}

const event = (consumerId: string, type: string, data: Record<string, unknown> = {}): JourneyEvent => ({
  id: `${type}-${consumerId}`,
  type,
  consumerId,
  occurredAt: new Date().toISOString(),
  data,
});

/**
 * Runs `definition` for a new consumer as the router starts it (the trigger in the input, the search attributes);
 * `during` sends events to the running run. Returns its history's figures.
 */
async function measure(
  client: Client,
  taskQueue: string,
  definition: JourneyDefinition,
  consumerId: string,
  during: (signal: (e: JourneyEvent) => Promise<void>, stepIs: (id: string) => Promise<void>) => Promise<void>,
): Promise<HistoryFigures> {
  const trigger = event(consumerId, 'bill.issued', {
    billId: 'B-1001',
    amount: '120.00',
    currency: 'USD',
    dueDate: '2026-12-01',
  });
  const input: JourneyRunInput = { journey: { journeyId: definition.id, version: 1, definition }, consumerId, trigger };
  const handle = await client.workflow.start('journeyWorkflow', {
    workflowId: journeyWorkflowId(definition.id, consumerId),
    taskQueue,
    args: [input],
    typedSearchAttributes: [
      { key: searchAttributes.consumerId, value: consumerId },
      { key: searchAttributes.journeyId, value: definition.id },
      { key: searchAttributes.journeyVersion, value: 1 },
      { key: searchAttributes.journeyStep, value: 'start' },
      { key: searchAttributes.journeyStatus, value: 'running' },
    ],
    staticSummary: `${definition.name} v1 for consumer ${consumerId}`,
  });
  const stepIs = async (id: string) => {
    for (let i = 0; i < 600; i++) {
      if ((await handle.query(stateQuery)).currentStep === id) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`${definition.id} never reached ${id}`);
  };
  await during((e) => handle.signal(eventSignal, e), stepIs);
  const state = (await handle.result()) as { status: string };
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  const byType: Record<string, number> = {};
  for (const e of events) {
    const name = temporal.api.enums.v1.EventType[e.eventType ?? 0] ?? String(e.eventType);
    byType[name] = (byType[name] ?? 0) + 1;
  }
  return {
    journey: definition.id,
    status: state.status,
    events: events.length,
    protoBytes: temporal.api.history.v1.History.encode(history).finish().byteLength,
    serverBytes: Math.max(0, ...events.map((e) => Number(e.workflowTaskStartedEventAttributes?.historySizeBytes ?? 0))),
    jsonBytes: Buffer.byteLength(historyToJson(history)),
    byType,
  };
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'je-history-'));
  await chmod(dataDir, 0o755); // as root, the embedded PostgreSQL runs as the `postgres` user
  const config = loadConfig({
    DATA_DIR: dataDir,
    PORT: String(await freePort()),
    TEMPORAL_DEV_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    EMBEDDED_POSTGRES_PORT: String(await freePort()),
    METRICS_PORT: String(await freePort()),
    API_KEYS: 'history-key',
    LOG_LEVEL: 'warn',
  });
  if (!args.plain) config.encryption.keys = [(await developmentEncryptionKey(dataDir)).key];
  const log = createLogger(config.logLevel, 'history-size');
  installTemporalLogging(log);
  const stack = await startStack(config, log, { headless: true });
  try {
    const taskQueue = config.temporal.taskQueue;
    const consumer = (id: string) =>
      upsertConsumer(stack.db, id, {
        email: `${id}@example.com`,
        phone: '+14155550100',
        attributes: { firstName: 'Ada' },
      });
    await consumer('history-1');
    await consumer('history-2');
    const rows = [
      await measure(stack.client, taskQueue, billReminderJourney(args.wait), 'history-1', () => Promise.resolve()),
      await measure(stack.client, taskQueue, fiveStepJourney(args.wait), 'history-2', async (signal, stepIs) => {
        await stepIs('wait-for-view');
        await signal(event('history-2', 'bill.viewed'));
      }),
    ];
    const encrypted = args.plain ? 'plaintext payloads' : 'payloads encrypted';
    console.log(`\n| journey | status | events | bytes (protobuf) | server's history size | bytes (JSON export) |`);
    console.log('|---|---|---:|---:|---:|---:|');
    for (const r of rows) {
      console.log(`| ${r.journey} | ${r.status} | ${r.events} | ${r.protoBytes} | ${r.serverBytes} | ${r.jsonBytes} |`);
    }
    if (args['by-type']) {
      for (const r of rows) {
        console.log(`\n${r.journey}:`);
        for (const [type, n] of Object.entries(r.byType)) console.log(`  ${type.replace('EVENT_TYPE_', '')}: ${n}`);
      }
    }
    console.log(
      `\n${encrypted}; waits of ${args.wait}; machine: ${os.cpus().length} cores, ` +
        `${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; ${new Date().toISOString()}`,
    );
  } finally {
    await stack.stop();
    await rm(dataDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

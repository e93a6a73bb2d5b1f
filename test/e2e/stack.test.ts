import assert from 'node:assert/strict';
import path from 'node:path';
import pino from 'pino';
import { type Config, loadConfig } from '../../runtime/config';
import { listMessages } from '../../stores/messages';
import { startStack, type Stack } from '../../dev/stack';
import { journeyWorkflowId } from '../../contract/workflow-ids';
import { freePort, freshDatabase, tempDir, unique, workflowBundle } from '../support/resources';
import { sinkEnv, sinks } from '../support/sinks';

const KEY = 'e2e-key';
const log = pino({ level: process.env.E2E_LOG_LEVEL ?? 'silent' });

/** The environment a user would set, pointed at local sinks; the reminder delay shortened to seconds. */
async function stackConfig(overrides: Record<string, string | undefined>): Promise<Config> {
  return loadConfig({
    ...(await sinkEnv()),
    PORT: '0',
    API_KEYS: KEY,
    BILL_REMINDER_DELAY: '3 seconds',
    TEMPORAL_DEV_PORT: String(await freePort()),
    ...overrides,
  });
}

async function api(
  stack: Stack,
  method: string,
  route: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${stack.apiUrl}${route}`, {
    method,
    headers: {
      authorization: `Bearer ${KEY}`,
      'content-type': 'application/json',
      // Events: answered once routed, with the per-journey results.
      ...(route === '/v1/events' ? { prefer: 'wait=10' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const newConsumer = async (stack: Stack) => {
  const id = unique('c');
  const consumer = {
    email: `${id}@example.com`,
    phone: `+1628${Math.floor(1e6 + Math.random() * 8e6)}`,
    attributes: { firstName: 'Lin' },
  };
  const res = await api(stack, 'PUT', `/v1/consumers/${id}`, consumer);
  assert.equal(res.status, 201);
  return { id, ...consumer };
};

const billIssued = (consumerId: string) => ({
  id: unique('evt'),
  type: 'bill.issued',
  consumerId,
  occurredAt: new Date().toISOString(),
  data: { billId: 'B-2026-11', amount: '42.50', currency: 'USD', dueDate: '2026-12-15' },
});

const runState = (stack: Stack, consumerId: string) =>
  api(stack, 'GET', `/v1/runs/${journeyWorkflowId('bill-reminder', consumerId)}`);

describe('end to end over the real stack', function () {
  this.timeout(180_000);

  describe('with a dev server, PostgreSQL, worker and API', () => {
    let stack: Stack;

    before(async () => {
      // A database of its own: the stack seeds the bill-reminder journey with this test's short delay.
      const config = await stackConfig({ DATABASE_URL: await freshDatabase(), DATA_DIR: await tempDir('e2e') });
      stack = await startStack(config, log, {
        headless: true,
        workflowBundle: await workflowBundle(),
        apiHost: '127.0.0.1',
      });
    });
    after(async () => {
      await stack?.stop();
    });

    it('emails on bill.issued, texts after the wait, and records both with provider ids', async () => {
      const { smtp, twilio } = await sinks();
      const consumer = await newConsumer(stack);
      const accepted = await api(stack, 'POST', '/v1/events', billIssued(consumer.id));
      assert.equal(accepted.status, 202);

      const mail = await smtp.waitFor(consumer.email);
      assert.equal(mail.header('Subject'), 'Your bill B-2026-11 is ready');
      const sms = await twilio.waitFor(consumer.phone);
      assert.match(sms.body, /B-2026-11 \(42.50 USD\) is due on 2026-12-15/);

      const run = await eventually('the run to complete', async () => {
        const res = await runState(stack, consumer.id);
        return res.body.status === 'COMPLETED' ? res.body : undefined;
      });
      assert.equal(run.state.status, 'completed');
      assert.deepEqual(
        run.state.messages.map((m: { channel: string; status: string }) => [m.channel, m.status]),
        [
          ['email', 'sent'],
          ['sms', 'sent'],
        ],
      );

      const rows = await listMessages(stack.db, { consumerId: consumer.id });
      const byChannel = Object.fromEntries(rows.map((r) => [r.channel, r]));
      assert.equal(byChannel.email?.providerId, mail.header('Message-ID'));
      assert.equal(byChannel.sms?.providerId, sms.sid);
      assert.deepEqual(
        rows.map((r) => r.status),
        ['sent', 'sent'],
      );

      // Operators find the run by consumer, journey and step in visibility (Temporal UI, `temporal workflow list`).
      const query = `ConsumerId = "${consumer.id}" AND JourneyId = "bill-reminder" AND JourneyStep = "end" AND JourneyStatus = "completed"`;
      const listed = await eventually('the run in visibility', async () => {
        for await (const execution of stack.client.workflow.list({ query })) return execution;
        return undefined;
      });
      assert.equal(listed.workflowId, journeyWorkflowId('bill-reminder', consumer.id));
    });

    it('sends no SMS once payment.received arrived during the wait', async () => {
      const { smtp, twilio } = await sinks();
      const consumer = await newConsumer(stack);
      await api(stack, 'POST', '/v1/events', billIssued(consumer.id));
      await smtp.waitFor(consumer.email);
      const paid = await api(stack, 'POST', '/v1/events', {
        id: unique('evt'),
        type: 'payment.received',
        consumerId: consumer.id,
        occurredAt: new Date().toISOString(),
      });
      assert.equal(paid.status, 202);
      assert.equal(paid.body.results[0].outcome, 'signalled');
      const run = await eventually('the run to complete', async () => {
        const res = await runState(stack, consumer.id);
        return res.body.status === 'COMPLETED' ? res.body : undefined;
      });
      assert.equal(run.state.status, 'converted');
      assert.equal(twilio.messages.filter((m) => m.to === consumer.phone).length, 0);
    });
  });

  describe('like `npm start` twice: embedded PostgreSQL and dev server on a data folder', () => {
    it('keeps a waiting journey waiting across a restart, then sends the reminder', async () => {
      const { smtp, twilio } = await sinks();
      const dataDir = await tempDir('restart');
      const config = await stackConfig({
        DATA_DIR: dataDir,
        EMBEDDED_POSTGRES_PORT: String(await freePort()),
        BILL_REMINDER_DELAY: '4 seconds',
      });
      const bundle = await workflowBundle();

      let stack = await startStack(config, log, { headless: true, workflowBundle: bundle, apiHost: '127.0.0.1' });
      let consumer;
      try {
        consumer = await newConsumer(stack);
        await api(stack, 'POST', '/v1/events', billIssued(consumer.id));
        await smtp.waitFor(consumer.email);
        // The email reaches the sink just before the run records it and moves on to its wait.
        let waiting = await runState(stack, consumer.id);
        for (let i = 0; i < 100 && waiting.body.state.currentStep !== 'wait-for-payment'; i++) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          waiting = await runState(stack, consumer.id);
        }
        assert.equal(waiting.body.state.currentStep, 'wait-for-payment');
      } finally {
        await stack.stop();
      }
      assert.equal(twilio.messages.filter((m) => m.to === consumer.phone).length, 0);

      stack = await startStack(config, log, { headless: true, workflowBundle: bundle, apiHost: '127.0.0.1' });
      try {
        assert.equal(stack.databaseUrl.includes(String(config.database.embeddedPort)), true);
        await twilio.waitFor(consumer.phone);
        const consumerRow = await api(stack, 'GET', `/v1/consumers/${consumer.id}`);
        assert.equal(consumerRow.body.email, consumer.email, 'PostgreSQL data survived the restart');
        const run = await eventually('the run to complete', async () => {
          const res = await runState(stack, consumer.id);
          return res.body.status === 'COMPLETED' ? res.body : undefined;
        });
        assert.equal(run.state.status, 'completed');
        assert.ok(path.isAbsolute(config.dataDir));
      } finally {
        await stack.stop();
      }
    });
  });
});

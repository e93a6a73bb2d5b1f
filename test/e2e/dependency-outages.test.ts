import assert from 'node:assert/strict';
import { createDb } from '../../runtime/db';
import { tempDir, unique } from '../support/resources';
import {
  call,
  serverPids,
  sleep,
  stackPorts,
  type StackPorts,
  type StackProcess,
  startProcess,
  STACK_KEY,
  untilUp,
} from '../support/stack-process';

/** What the API promises while a dependency is down: 503 with Retry-After within 5 s. */
const MAX_503_MS = 5_000;
/** No answer at all may take longer (a 202 is normally milliseconds). */
const MAX_ANSWER_MS = 6_000;

type Phase = 'up' | 'postgres down' | 'temporal down' | 'restarting';

/** One event sent, and what came back. */
interface Answer {
  eventId: string;
  consumerId: string;
  /** Phase when the request was sent. */
  phase: Phase;
  /** HTTP status; 0 when no connection could be made (the stack restarting), -1 when no answer came in 15 s. */
  status: number;
  ms: number;
  retryAfter: string | null;
  workflowId?: string;
}

/** Sends bill.issued events, each with its own id and consumer, until `stop()`; `phase()` labels each. */
function sendEvents(apiUrl: string, phase: () => Phase, senders = 3) {
  const answers: Answer[] = [];
  let stopped = false;
  const sender = async () => {
    while (!stopped) {
      const eventId = unique('evt');
      const consumerId = unique('outage');
      const sentIn = phase();
      const started = Date.now();
      let status: number;
      let body: any;
      let retryAfter: string | null = null;
      try {
        const res = await fetch(`${apiUrl}/v1/events`, {
          method: 'POST',
          headers: { authorization: `Bearer ${STACK_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            id: eventId,
            type: 'bill.issued',
            consumerId,
            occurredAt: new Date().toISOString(),
            data: { billId: 'B-1', amount: '1.00', currency: 'USD', dueDate: '2026-12-15' },
          }),
          signal: AbortSignal.timeout(15_000),
        });
        status = res.status;
        retryAfter = res.headers.get('retry-after');
        body = await res.json();
      } catch (err) {
        status = (err as Error).name === 'TimeoutError' ? -1 : 0;
      }
      const ms = Date.now() - started;
      answers.push({
        eventId,
        consumerId,
        phase: sentIn,
        status,
        ms,
        retryAfter,
        workflowId: body?.results?.[0]?.workflowId,
      });
      await sleep(status === 0 ? 200 : 100);
    }
  };
  const running = Promise.all(Array.from({ length: senders }, sender));
  return {
    answers,
    stop: async () => {
      stopped = true;
      await running;
    },
  };
}

/** Resolves once `count` more answers with `status` have come after this call. */
async function untilAnswers(answers: Answer[], status: number, count: number, timeoutMs = 30_000): Promise<void> {
  const from = answers.length;
  const deadline = Date.now() + timeoutMs;
  while (answers.slice(from).filter((a) => a.status === status).length < count) {
    if (Date.now() > deadline) throw new Error(`no ${count} answers ${status} within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Stops the stack with SIGTERM (it must stop although a server of it died) and starts it again on the same data. */
async function restart(stack: StackProcess, dataDir: string, ports: StackPorts): Promise<StackProcess> {
  process.kill(stack.pid, 'SIGTERM');
  const { code } = await stack.exited;
  const stopping = stack
    .output()
    .split('\n')
    .filter((line) => /"msg":"(stopp|error while stopping|not stopped)/.test(line) || !line.startsWith('{"level"'));
  assert.equal(code, 0, `the stack stops cleanly with a dead server:\n${stopping.join('\n')}`);
  return untilUp(startProcess(dataDir, ports));
}

describe('the API while PostgreSQL or Temporal is down (a running `npm start` stack)', function () {
  this.timeout(180_000);

  /*
   * Proves, with real processes and real SIGKILLs: while events arrive, killing the embedded PostgreSQL and later
   * the Temporal dev server never makes the API answer 500 or hang (every answer is 202 or 503; every 503 says
   * Retry-After and comes within 5 s; no answer takes over 6 s); the stack still stops cleanly on SIGTERM with a dead
   * server and resumes on the same data; and every event answered 202 is durable: after both crashes its run exists
   * in Temporal (read through the API) and its receipt is in PostgreSQL.
   */
  it('answers every event 202 or 503 within seconds through both outages, and every 202 is durable', async () => {
    const dataDir = await tempDir('outages');
    const ports = await stackPorts();
    let stack = await untilUp(startProcess(dataDir, ports));
    let phase: Phase = 'up';
    const traffic = sendEvents(stack.apiUrl, () => phase);
    try {
      await untilAnswers(traffic.answers, 202, 10);

      // (a) PostgreSQL crashes (SIGKILL of the postmaster; its backends follow) for a few seconds.
      phase = 'postgres down';
      process.kill((await serverPids(dataDir)).postgres, 'SIGKILL');
      await sleep(3_000);
      await untilAnswers(traffic.answers, 503, 3);
      phase = 'restarting';
      stack = await restart(stack, dataDir, ports);
      phase = 'up';
      await untilAnswers(traffic.answers, 202, 10);

      // (b) The Temporal dev server crashes (SIGKILL) for a few seconds.
      phase = 'temporal down';
      process.kill((await serverPids(dataDir)).temporal, 'SIGKILL');
      await sleep(3_000);
      await untilAnswers(traffic.answers, 503, 3);
      phase = 'restarting';
      stack = await restart(stack, dataDir, ports);
      phase = 'up';
      await untilAnswers(traffic.answers, 202, 10);
    } finally {
      await traffic.stop();
    }

    const { answers } = traffic;
    const summary = (list: Answer[]) => list.map((a) => `${a.phase}: ${a.status} in ${a.ms} ms`).join('\n');
    const answered = answers.filter((a) => a.status > 0);
    assert.deepEqual(
      answered.filter((a) => a.status !== 202 && a.status !== 503),
      [],
      'every answer is 202 or 503, never 500',
    );
    assert.deepEqual(
      answers.filter((a) => a.status === -1),
      [],
      'no request went unanswered',
    );
    assert.deepEqual(
      answers.filter((a) => a.status === 0 && a.phase !== 'restarting'),
      [],
      'the API itself answers all along, but while the stack restarts',
    );
    const slow = answered.filter((a) => a.ms > MAX_ANSWER_MS);
    assert.deepEqual(slow, [], `answers slower than ${MAX_ANSWER_MS} ms:\n${summary(slow)}`);
    const late503 = answered.filter((a) => a.status === 503 && a.ms > MAX_503_MS);
    assert.deepEqual(late503, [], `503s slower than ${MAX_503_MS} ms:\n${summary(late503)}`);
    for (const outage of ['postgres down', 'temporal down'] as const) {
      const during = answered.filter((a) => a.phase === outage);
      assert.ok(
        during.some((a) => a.status === 503),
        `${outage}: some events answered 503`,
      );
      assert.ok(
        during.filter((a) => a.status === 503).every((a) => Number(a.retryAfter) >= 1),
        `${outage}: every 503 says Retry-After`,
      );
      const times = during.filter((a) => a.status === 503).map((a) => a.ms);
      if (process.env.E2E_TIMINGS)
        console.log(
          `      ${outage}: ${times.length} answered 503, in ${Math.min(...times)} to ${Math.max(...times)} ms`,
        );
    }

    // Every 202 is durable: the run exists in Temporal, the receipt in PostgreSQL (both survived the crashes).
    const accepted = answers.filter((a) => a.status === 202);
    assert.ok(accepted.length >= 30);
    if (process.env.E2E_TIMINGS)
      console.log(
        `      ${answers.length} events sent: ${accepted.length} answered 202, ` +
          `${answered.length - accepted.length} 503, ${answers.length - answered.length} refused while restarting`,
      );
    const db = createDb(`postgres://postgres:postgres@127.0.0.1:${ports.postgres}/journeys`, { max: 2 });
    try {
      const receipts = new Set(
        (
          await db('event_receipts')
            .whereIn(
              'event_id',
              accepted.map((a) => a.eventId),
            )
            .select<{ event_id: string }[]>('event_id')
        ).map((r) => r.event_id),
      );
      assert.deepEqual(
        accepted.filter((a) => !receipts.has(a.eventId)).map((a) => a.eventId),
        [],
        'a receipt for every accepted event',
      );
    } finally {
      await db.destroy();
    }
    const missing: string[] = [];
    for (let i = 0; i < accepted.length; i += 10) {
      await Promise.all(
        accepted.slice(i, i + 10).map(async (a) => {
          assert.ok(a.workflowId, `202 for ${a.eventId} names its run`);
          const run = await call(stack, 'GET', `/v1/runs/${encodeURIComponent(a.workflowId)}`);
          if (run.status !== 200 || run.body.state?.consumerId !== a.consumerId)
            missing.push(`${a.eventId}: ${run.status}`);
        }),
      );
    }
    assert.deepEqual(missing, [], 'a run for every accepted event');

    process.kill(stack.pid, 'SIGTERM');
    assert.equal((await stack.exited).code, 0);
  });
});

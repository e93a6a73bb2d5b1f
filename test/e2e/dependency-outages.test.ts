import assert from 'node:assert/strict';
import { Client, Connection } from '@temporalio/client';
import { createDb } from '../../runtime/db';
import { tempDir, unique } from '../support/resources';
import {
  call,
  killGroup,
  serverPids,
  sleep,
  stackPorts,
  type StackPorts,
  type StackProcess,
  startProcess,
  STACK_KEY,
  untilGone,
  untilUp,
} from '../support/stack-process';

/** What the API promises while PostgreSQL is down: 503 with Retry-After within 5 s. */
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
        await res.json();
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
async function restartStack(
  stack: StackProcess,
  dataDir: string,
  ports: StackPorts,
  env: Record<string, string>,
): Promise<StackProcess> {
  process.kill(stack.pid, 'SIGTERM');
  const { code } = await stack.exited;
  const stopping = stack
    .output()
    .split('\n')
    .filter((line) => /"msg":"(stopp|error while stopping|not stopped)/.test(line) || !line.startsWith('{"level"'));
  assert.equal(code, 0, `the stack stops cleanly with a dead server:\n${stopping.join('\n')}`);
  return untilUp(startProcess(dataDir, ports, env));
}

/** How long Temporal stays down under load (the issue asks for a minute). */
const TEMPORAL_OUTAGE_MS = Number(process.env.E2E_TEMPORAL_OUTAGE_S ?? 60) * 1000;

/** The stack's inbox backlog as /readyz reports it, or undefined while it does not answer. */
async function backlogOf(stack: { apiUrl: string }): Promise<number | undefined> {
  try {
    const ready = await call(stack, 'GET', '/readyz');
    return (ready.body as { inbox?: { waiting: number } }).inbox?.waiting;
  } catch {
    return undefined;
  }
}

describe('the API while PostgreSQL or Temporal is down (a running `npm start` stack)', function () {
  this.timeout(420_000);

  /*
   * Proves, with real processes and real SIGKILLs, while events arrive: killing the embedded PostgreSQL makes the
   * API answer 503 with Retry-After within 5 s, never 500 or a hang; with the Temporal dev server killed for a minute
   * every event is still answered 202 within milliseconds (ingest never waits on Temporal) and waits in the inbox;
   * killing the whole stack (API and relay) with SIGKILL while the relay drains that backlog loses nothing: after
   * a restart, every event answered 202 is routed exactly once (one receipt, one run, each in PostgreSQL and
   * Temporal).
   */
  it('answers 503 only while PostgreSQL is down, 202 while Temporal is down, and routes every 202 exactly once', async () => {
    const dataDir = await tempDir('outages');
    const ports = await stackPorts();
    // A short lease: the events the killed relay held are taken again within seconds.
    const env = { RELAY_LEASE_MS: '3000' };
    let stack = await untilUp(startProcess(dataDir, ports, env));
    let phase: Phase = 'up';
    const traffic = sendEvents(stack.apiUrl, () => phase);
    const restart = async (signal: 'SIGTERM' | 'SIGKILL') => {
      phase = 'restarting';
      if (signal === 'SIGTERM') stack = await restartStack(stack, dataDir, ports, env);
      else {
        const servers = await serverPids(dataDir);
        // Requests already in flight are cut by the kill: let those sent as 'up' finish first.
        await sleep(300);
        killGroup(stack.pid, 'SIGKILL');
        await untilGone(stack.pid, servers, ports, 15_000);
        stack = await untilUp(startProcess(dataDir, ports, env));
      }
      phase = 'up';
    };
    let peak = 0;
    try {
      await untilAnswers(traffic.answers, 202, 10);

      // (a) PostgreSQL crashes (SIGKILL of the postmaster; its backends follow) for a few seconds.
      phase = 'postgres down';
      process.kill((await serverPids(dataDir)).postgres, 'SIGKILL');
      await sleep(3_000);
      await untilAnswers(traffic.answers, 503, 3);
      await restart('SIGTERM');
      await untilAnswers(traffic.answers, 202, 10);

      // (b) The Temporal dev server crashes (SIGKILL) and stays down for a minute under load.
      phase = 'temporal down';
      process.kill((await serverPids(dataDir)).temporal, 'SIGKILL');
      await sleep(TEMPORAL_OUTAGE_MS);
      const ready = await call(stack, 'GET', '/readyz');
      assert.equal(ready.status, 200, 'ready: events are still accepted');
      assert.equal(ready.body.temporal, 'unavailable');
      peak = ready.body.inbox.waiting as number;
      assert.ok(peak > 0, 'events wait in the inbox while Temporal is down');

      // (c) Temporal back (a clean restart); while the relay drains the backlog, the whole stack is SIGKILLed.
      await restart('SIGTERM');
      const drainDeadline = Date.now() + 60_000;
      for (;;) {
        const waiting = await backlogOf(stack);
        if (waiting !== undefined && waiting < peak - 50) break;
        assert.ok(Date.now() < drainDeadline, `the relay delivers (backlog ${waiting} of ${peak})`);
        await sleep(100);
      }
      await restart('SIGKILL');
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
    const whilePostgresDown = answered.filter((a) => a.phase === 'postgres down' && a.status === 503);
    assert.ok(whilePostgresDown.length > 0, 'postgres down: some events answered 503');
    assert.ok(
      whilePostgresDown.every((a) => Number(a.retryAfter) >= 1),
      'postgres down: every 503 says Retry-After',
    );
    const whileTemporalDown = answered.filter((a) => a.phase === 'temporal down');
    assert.ok(whileTemporalDown.length >= 100, `${whileTemporalDown.length} events sent while Temporal was down`);
    assert.deepEqual(
      whileTemporalDown.filter((a) => a.status !== 202),
      [],
      'temporal down: every event answered 202',
    );
    const accepted = answers.filter((a) => a.status === 202);
    if (process.env.E2E_TIMINGS) {
      const times = whileTemporalDown.map((a) => a.ms).sort((x, y) => x - y);
      console.log(
        `      ${answers.length} events sent: ${accepted.length} answered 202, ` +
          `${answered.length - accepted.length} 503, ${answers.length - answered.length} refused while restarting; ` +
          `while Temporal was down ${times.length} answered 202, P50 ${times[Math.floor(times.length / 2)]} ms, ` +
          `max ${times.at(-1)} ms; backlog peak ${peak}`,
      );
    }

    // The relay catches up, then every 202 is routed exactly once: one receipt and one run each.
    const drained = Date.now() + 120_000;
    while ((await backlogOf(stack)) !== 0) {
      assert.ok(Date.now() < drained, `the backlog drains (${await backlogOf(stack)} waiting)`);
      await sleep(500);
    }
    const db = createDb(`postgres://postgres:postgres@127.0.0.1:${ports.postgres}/journeys`, { max: 2 });
    try {
      const ids = accepted.map((a) => a.eventId);
      const routed = await db('events_received')
        .whereIn('event_id', ids)
        .select<{ event_id: string; status: string }[]>('event_id', 'status');
      assert.deepEqual(
        routed.filter((r) => r.status !== 'routed'),
        [],
        'every accepted event routed',
      );
      assert.equal(routed.length, accepted.length, 'every accepted event is in the inbox');
      const receipts = await db('event_receipts')
        .whereIn('event_id', ids)
        .select<{ event_id: string; outcome: string }[]>('event_id', 'outcome');
      // A redelivery after the SIGKILL finds the run the dead relay started and signals it (the run ignores the id).
      const settled = new Map(receipts.filter((r) => r.outcome !== 'claimed').map((r) => [r.event_id, r.outcome]));
      assert.deepEqual(
        ids.filter((id) => !['started', 'signalled'].includes(settled.get(id) ?? 'none')),
        [],
        'a settled receipt for every accepted event',
      );
      assert.equal(receipts.length, ids.length, 'one receipt per accepted event');
      const outcomes = await db('event_outcomes')
        .whereIn('event_id', ids)
        .select<{ event_id: string; workflow_id: string }[]>('event_id', 'workflow_id');
      const runOf = new Map(outcomes.map((o) => [o.event_id, o.workflow_id]));
      const missing: string[] = [];
      for (let i = 0; i < accepted.length; i += 20) {
        await Promise.all(
          accepted.slice(i, i + 20).map(async (a) => {
            const workflowId = runOf.get(a.eventId);
            if (!workflowId) {
              missing.push(`${a.eventId}: no outcome`);
              return;
            }
            // The state is a query its worker answers: a busy worker may make the API answer 503; ask again.
            let run = await call(stack, 'GET', `/v1/runs/${encodeURIComponent(workflowId)}`);
            for (let retry = 0; run.status === 503 && retry < 5; retry++) {
              await sleep(2_000);
              run = await call(stack, 'GET', `/v1/runs/${encodeURIComponent(workflowId)}`);
            }
            if (run.status !== 200 || run.body.state?.consumerId !== a.consumerId)
              missing.push(`${a.eventId}: ${run.status}`);
          }),
        );
      }
      assert.deepEqual(missing, [], 'a run for every accepted event');
      // No run twice: each event has a consumer of its own, so runs and stored events (the accepted ones, and any
      // committed just before its answer was lost to a crash) match one to one.
      const stored = (await db('events_received').count<{ stored: string }[]>({ stored: '*' }))[0]?.stored;
      assert.ok(Number(stored) >= accepted.length);
      const temporal = new Client({ connection: await Connection.connect({ address: `127.0.0.1:${ports.temporal}` }) });
      try {
        const runs = async () => (await temporal.workflow.count(`WorkflowType = 'journeyWorkflow'`)).count;
        for (let i = 0; (await runs()) < Number(stored) && i < 60; i++) await sleep(500);
        assert.equal(await runs(), Number(stored), 'one run per stored event, none twice');
      } finally {
        await temporal.connection.close();
      }
    } finally {
      await db.destroy();
    }

    process.kill(stack.pid, 'SIGTERM');
    assert.equal((await stack.exited).code, 0);
  });
});

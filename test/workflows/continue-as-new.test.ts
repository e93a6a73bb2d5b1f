import assert from 'node:assert/strict';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import pino from 'pino';
import { createActivities } from '../../activities';
import { registerSearchAttributes } from '../../runtime/search-attributes';
import { startTemporalDevServer } from '../../dev/temporal-dev-server';
import { upsertConsumer } from '../../stores/consumers';
import { eventSignal } from '../../contract/journey-run';
import type { JourneyEvent } from '../../contract/events';
import type { JourneyDefinition } from '../../contract/journey-definition';
import type { journeyWorkflow } from '../../workflows/journey/workflow';
import { freePort, onTeardown, postgres, tempDir, unique, workflowBundle } from '../support/resources';
import { sinkChannels } from '../support/sinks';

describe('journeyWorkflow on a long run', function () {
  this.timeout(120_000);

  it('continues as new when the server suggests it, carrying its state', async () => {
    // A dev server that suggests continue-as-new after 40 history events instead of 4,096.
    const dir = await tempDir('can');
    const server = await startTemporalDevServer({
      port: await freePort(),
      namespace: 'default',
      logFile: path.join(dir, 'temporal.log'),
      extraArgs: ['--dynamic-config-value', 'limit.historyCount.suggestContinueAsNew=40'],
    });
    onTeardown(() => server.stop());
    const connection = await Connection.connect({ address: server.address });
    onTeardown(() => connection.close());
    await registerSearchAttributes(connection, 'default');
    const client = new Client({ connection });
    const nativeConnection = await NativeConnection.connect({ address: server.address });
    onTeardown(() => nativeConnection.close());

    const { db } = await postgres();
    const consumerId = unique('c');
    await upsertConsumer(db, consumerId, { email: `${consumerId}@example.com` });
    const definition: JourneyDefinition = {
      id: unique('ticker'),
      name: 'ticker',
      topic: 'test',
      trigger: { event: 'tick.started' },
      reentry: { policy: 'after-exit' },
      goals: [],
      exits: [],
      maxLifetime: '15 seconds',
      start: 'tick',
      steps: [{ id: 'tick', type: 'wait', duration: '100ms', next: 'tick' }],
    };
    const taskQueue = unique('can');
    const worker = await Worker.create({
      connection: nativeConnection,
      taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createActivities({ db, channels: await sinkChannels(db), log: pino({ level: 'silent' }) }),
    });
    const trigger: JourneyEvent = {
      id: unique('evt'),
      type: 'tick.started',
      consumerId,
      occurredAt: new Date().toISOString(),
      data: {},
    };
    const { result, firstRunId, workflowId } = await worker.runUntil(async () => {
      const handle = await client.workflow.signalWithStart<typeof journeyWorkflow, [JourneyEvent]>('journeyWorkflow', {
        taskQueue,
        workflowId: `journey:${definition.id}:${consumerId}`,
        args: [{ journey: { journeyId: definition.id, version: 1, definition }, consumerId }],
        signal: eventSignal,
        signalArgs: [trigger],
      });
      return { result: await handle.result(), firstRunId: handle.signaledRunId, workflowId: handle.workflowId };
    });

    const first = await client.workflow.getHandle(workflowId, firstRunId).describe();
    assert.equal(first.status.name, 'CONTINUED_AS_NEW');
    const last = await client.workflow.getHandle(workflowId).describe();
    assert.notEqual(last.runId, firstRunId);
    // The state travelled: every tick of every execution is in the final state, and the lifetime held.
    const ticks = result.steps.filter((s) => s.id === 'tick').length;
    assert.ok(ticks > 10, `only ${ticks} ticks carried`);
    assert.equal(result.steps.at(-1)?.outcome, 'maximum lifetime reached');
    assert.deepEqual(
      result.events.map((e) => e.id),
      [trigger.id],
    );
  });
});

/**
 * The per-run routes: state, cancel (202 running, 409 ended, 404 unknown), pause/resume/skip-wait as workflow
 * Updates (on journeyWorkflow and legacy billReminderWorkflow runs alike), against a real Temporal test server with
 * the journey worker running, and real PostgreSQL.
 */
import assert from 'node:assert/strict';
import type { Express } from 'express';
import request from 'supertest';
import type { JourneyDefinition } from '../../../contract/journey-definition';
import { stateQuery } from '../../../contract/journey-run';
import { runsRoutes } from '../../../api/routes/runs';
import { auth, silentLog, v1App } from '../../support/api';
import { unique } from '../../support/resources';
import { journeyEvent, useWorkflowHarness, waitForState } from '../../support/workflow-harness';

const definition = (): JourneyDefinition => ({
  id: unique('runs'),
  name: 'runs routes',
  topic: 'marketing',
  trigger: { event: 'cart.abandoned' },
  reentry: { policy: 'after-exit' },
  goals: [{ event: 'order.placed' }],
  exits: [],
  start: 'long',
  steps: [
    { id: 'long', type: 'wait', duration: '30 days', next: 'nudge' },
    { id: 'nudge', type: 'send', channels: ['sms'], templates: { sms: { text: 'hi' } }, next: 'done' },
    { id: 'done', type: 'exit' },
  ],
});

describe('runs routes (per run)', function () {
  this.timeout(120_000);
  const h = useWorkflowHarness('runs-routes');
  let app: Express;
  before(() => {
    app = v1App(runsRoutes({ client: h.env.client, log: silentLog }));
  });
  const post = (path: string) => request(app).post(path).set(auth);

  it('pauses, skips the wait, refuses a second skip (409 naming why), resumes; then 409 on an ended run', async () => {
    const consumer = await h.newConsumer();
    await h.run(async () => {
      const handle = await h.startJourney(definition(), consumer.id, journeyEvent(consumer.id, 'cart.abandoned'));
      const id = encodeURIComponent(handle.workflowId);
      await waitForState(handle, (s) => s.pendingWait?.step === 'long');

      const paused = await post(`/v1/runs/${id}/pause`);
      assert.equal(paused.status, 200, JSON.stringify(paused.body));
      assert.deepEqual(paused.body, { workflowId: handle.workflowId, paused: true });
      const skipped = await post(`/v1/runs/${id}/skip-wait`);
      assert.equal(skipped.status, 200, JSON.stringify(skipped.body));
      assert.deepEqual(skipped.body.skipped, { step: 'long', for: 'long: wait 30 days' });
      const held = await waitForState(handle, (s) => s.currentStep === 'nudge');
      assert.equal(held.messages.length, 0, 'held before the send');

      const again = await post(`/v1/runs/${id}/skip-wait`);
      assert.equal(again.status, 409);
      assert.equal(again.body.error.code, 'Conflict');
      assert.match(again.body.error.message, /is not waiting/);

      assert.deepEqual((await post(`/v1/runs/${id}/resume`)).body, { workflowId: handle.workflowId, paused: false });
      const final = await handle.result();
      assert.deepEqual(
        final.messages.map((m) => m.status),
        ['sent'],
      );
      assert.match(final.steps[0]?.outcome ?? '', /^skipped by operator after /);

      for (const action of ['cancel', 'pause', 'resume', 'skip-wait']) {
        const ended = await post(`/v1/runs/${id}/${action}`);
        assert.equal(ended.status, 409, `${action}: ${JSON.stringify(ended.body)}`);
        assert.match(ended.body.error.message, /has ended \(COMPLETED\)/);
      }
    });
  });

  it('cancels a running run (202) and it ends as cancelled; 404 for an unknown run', async () => {
    const consumer = await h.newConsumer();
    await h.run(async () => {
      const handle = await h.startJourney(definition(), consumer.id, journeyEvent(consumer.id, 'cart.abandoned'));
      await waitForState(handle, (s) => s.pendingWait?.step === 'long');
      const res = await post(`/v1/runs/${encodeURIComponent(handle.workflowId)}/cancel`);
      assert.equal(res.status, 202);
      assert.deepEqual(res.body, { workflowId: handle.workflowId, cancelRequested: true });
      await assert.rejects(handle.result());
      assert.equal((await handle.query(stateQuery)).status, 'cancelled');
      const state = await request(app)
        .get(`/v1/runs/${encodeURIComponent(handle.workflowId)}`)
        .set(auth);
      assert.equal(state.body.status, 'CANCELLED');
      assert.equal(state.body.state.status, 'cancelled');
    });
    for (const action of ['cancel', 'pause', 'resume', 'skip-wait']) {
      const res = await post(`/v1/runs/${unique('nobody')}/${action}`);
      assert.equal(res.status, 404, action);
      assert.equal(res.body.error.code, 'NotFound');
    }
  });

  it('takes the controls and the cancel on a legacy bill-reminder run (billReminderWorkflow) as on any run', async () => {
    const consumer = await h.newConsumer();
    const bill = { billId: 'B-7', amount: '9.00', currency: 'EUR', dueDate: '2026-12-24' };
    await h.run(async () => {
      const handle = await h.startBillReminder(consumer.id, journeyEvent(consumer.id, 'bill.issued', bill));
      const id = encodeURIComponent(handle.workflowId);
      await waitForState(handle, (s) => s.pendingWait?.step === 'wait-for-payment');

      const paused = await post(`/v1/runs/${id}/pause`);
      assert.equal(paused.status, 200, JSON.stringify(paused.body));
      assert.deepEqual(paused.body, { workflowId: handle.workflowId, paused: true });
      const skipped = await post(`/v1/runs/${id}/skip-wait`);
      assert.equal(skipped.status, 200, JSON.stringify(skipped.body));
      assert.deepEqual(skipped.body.skipped, { step: 'wait-for-payment', for: 'payment.received' });
      const held = await waitForState(handle, (s) => s.currentStep === 'send-sms');
      assert.equal(held.pausedByOperator, true);
      const again = await post(`/v1/runs/${id}/skip-wait`);
      assert.equal(again.status, 409);
      assert.match(again.body.error.message, /is not waiting/);

      // Cancelled while held before its SMS: it ends as cancelled, as the API shows it.
      assert.equal((await post(`/v1/runs/${id}/cancel`)).status, 202);
      await assert.rejects(handle.result());
      const state = await request(app).get(`/v1/runs/${id}`).set(auth);
      assert.equal(state.body.status, 'CANCELLED');
      assert.equal(state.body.state.status, 'cancelled');
      assert.equal(state.body.state.steps.at(-1)?.outcome, 'cancelled during send-sms');
      assert.deepEqual(
        state.body.state.messages.map((m: { channel: string }) => m.channel),
        ['email'],
      );
    });
  });
});

/**
 * POST /v1/messages/{id}/resend: a failed email of a real run (refused by the SMTP sink) re-sent through Temporal,
 * on the time-skipping server with real workers, PostgreSQL and the SMTP sink.
 */
import assert from 'node:assert/strict';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Express } from 'express';
import pino from 'pino';
import request from 'supertest';
import { messageResendPaths, messageResendRoutes, resendWorkflowId } from '../../../api/routes/message-resend';
import type { JourneyDefinition } from '../../../contract/journey-definition';
import { JourneyRouter } from '../../../journeys/router';
import { upsertConsumer } from '../../../stores/consumers';
import { listMessages, recordOutcome } from '../../../stores/messages';
import { suppress } from '../../../stores/suppressions';
import type { ResendResult } from '../../../workflows/resend';
import { auth, fieldsOf, v1App } from '../../support/api';
import { unique } from '../../support/resources';
import { REJECTED_EMAIL_DOMAIN, sinks } from '../../support/sinks';
import { journeyEvent, recordFixture, useWorkflowHarness } from '../../support/workflow-harness';

describe('POST /v1/messages/:id/resend', function () {
  this.timeout(120_000);
  const h = useWorkflowHarness('resend');
  let app: Express;

  const definition = (): JourneyDefinition => ({
    id: unique('statement'),
    name: 'statement',
    topic: 'statements',
    trigger: { event: 'statement.ready' },
    reentry: { policy: 'after-exit' },
    goals: [],
    exits: [],
    start: 'notify',
    steps: [
      {
        id: 'notify',
        type: 'send',
        channels: ['email'],
        templates: {
          email: { subject: 'Statement {{ trigger.data.month }}', text: 'Your {{ trigger.data.month }} statement.' },
        },
        next: 'done',
      },
      { id: 'done', type: 'exit' },
    ],
  });

  before(() => {
    const router = new JourneyRouter(h.db, h.env.client, { taskQueue: h.taskQueue, log: pino({ level: 'silent' }) });
    app = v1App(messageResendRoutes({ db: h.db, client: h.env.client, router, log: pino({ level: 'silent' }) }));
  });

  /** A consumer whose email the sink refuses, and the key of the email their run failed to send. */
  async function failedEmail(): Promise<{ consumerId: string; key: string }> {
    const consumerId = unique('c');
    await upsertConsumer(h.db, consumerId, { email: `${consumerId}@${REJECTED_EMAIL_DOMAIN}` });
    await h.run(async () => {
      const handle = await h.startJourney(
        definition(),
        consumerId,
        journeyEvent(consumerId, 'statement.ready', { month: 'May' }),
      );
      await handle.result();
    });
    const [message] = await listMessages(h.db, { consumerId });
    assert.equal(message?.status, 'failed');
    return { consumerId, key: message.key };
  }

  const resend = (key: string) =>
    request(app)
      .post(`/v1/messages/${encodeURIComponent(key)}/resend`)
      .set(auth);

  it('re-sends a failed email once as a new message linked to it, with the content the run rendered', async () => {
    const { consumerId, key } = await failedEmail();
    const address = `${consumerId}@example.com`;
    await upsertConsumer(h.db, consumerId, { email: address });
    const { smtp } = await sinks();
    const result = await h.run(async () => {
      const first = await resend(key);
      assert.equal(first.status, 202, JSON.stringify(first.body));
      assert.deepEqual(
        [first.body.messageId, first.body.resendKey, first.body.workflowId, first.body.alreadyRequested],
        [key, `${key}/resend`, resendWorkflowId(key), false],
      );
      const schema = (messageResendPaths['/v1/messages/{id}/resend']?.post as any).responses['202'].content[
        'application/json'
      ].schema;
      const ajv = new Ajv2020({ strict: false });
      addFormats(ajv);
      const answer: unknown = first.body;
      assert.ok(ajv.validate(schema, answer), ajv.errorsText());
      const handle = h.env.client.workflow.getHandle(first.body.workflowId);
      const done: ResendResult = await handle.result();
      await recordFixture(handle, 'resend-v1-sent');
      // A double click: nothing is sent again.
      const second = await resend(key);
      assert.equal(second.status, 202);
      assert.equal(second.body.alreadyRequested, true);
      assert.equal(second.body.workflowId, first.body.workflowId);
      return done;
    });
    assert.equal(result.status, 'sent');
    const mails = smtp.received.filter((mail) => mail.to.includes(address));
    assert.equal(mails.length, 1);
    assert.match(mails[0]!.header('subject') ?? '', /Statement May/);
    const rows = await listMessages(h.db, { consumerId });
    assert.deepEqual(rows.map((row) => [row.key, row.status]).sort(), [
      [key, 'failed'],
      [`${key}/resend`, 'sent'],
    ]);
    const link = await h.db('message_resends').where({ original_key: key }).first();
    assert.equal(link.resend_key, `${key}/resend`);
  });

  it('applies the policy again: a suppressed address is skipped, not sent', async () => {
    const { consumerId, key } = await failedEmail();
    const address = `${consumerId}@example.com`;
    await upsertConsumer(h.db, consumerId, { email: address });
    await suppress(h.db, { channel: 'email', address, reason: 'manual', source: 'test' });
    const result = await h.run(async () => {
      const res = await resend(key);
      assert.equal(res.status, 202);
      return (await h.env.client.workflow.getHandle(res.body.workflowId).result()) as ResendResult;
    });
    assert.deepEqual([result.status, result.reason], ['skipped', 'OptedOut']);
    const { smtp } = await sinks();
    assert.equal(smtp.received.filter((mail) => mail.to.includes(address)).length, 0);
    const rows = await listMessages(h.db, { consumerId });
    assert.deepEqual(rows.find((row) => row.key === `${key}/resend`)?.status, 'skipped');
  });

  it('answers 409 for a message that did not fail, 404 for none, 400 naming id for an over-long key', async () => {
    const { consumerId, key } = await failedEmail();
    await upsertConsumer(h.db, consumerId, { email: `${consumerId}@example.com` });
    await h.run(async () => {
      const res = await resend(key);
      await h.env.client.workflow.getHandle(res.body.workflowId).result();
    });
    const sent = await resend(`${key}/resend`);
    assert.equal(sent.status, 409);
    assert.match(sent.body.error.message, /is sent: only a failed message can be re-sent/);
    assert.equal((await resend(unique('none'))).status, 404);
    // A failed message whose run Temporal no longer has (retention): its content cannot be rebuilt.
    const orphan = unique('orphan');
    await recordOutcome(h.db, {
      key: orphan,
      consumerId,
      journeyId: 'gone',
      step: 'notify',
      channel: 'email',
      workflowId: unique('journey:gone'),
      status: 'failed',
      errorType: 'InvalidRecipient',
    });
    const gone = await resend(orphan);
    assert.equal(gone.status, 409, JSON.stringify(gone.body));
    assert.match(gone.body.error.message, /no longer in Temporal's history/);
    const long = await resend('k'.repeat(901));
    assert.equal(long.status, 400);
    assert.deepEqual(fieldsOf(long.body), ['id']);
  });

  it('documents the route', () => {
    assert.ok(messageResendPaths['/v1/messages/{id}/resend']?.post);
  });
});

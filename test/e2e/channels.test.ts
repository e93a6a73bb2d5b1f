/**
 * The four channels end to end over the real stack (dev server, PostgreSQL, worker, API): providers'
 * own clients against the local sinks, delivery reports coming back through the webhooks, fallback,
 * STOP/START, one-click unsubscribe and the analytics they add up to.
 */
import assert from 'node:assert/strict';
import pino from 'pino';
import { loadConfig } from '../../runtime/config';
import { startStack, type Stack } from '../../dev/stack';
import type { Channel } from '../../contract/channels';
import type { JourneyDefinition, SendStep } from '../../contract/journey-definition';
import { freePort, freshDatabase, tempDir, unique, workflowBundle } from '../support/resources';
import { readSpool, sinkEnv, sinks, TEST_UNSUBSCRIBE_SECRET } from '../support/sinks';

const KEY = 'e2e-channels-key';

describe('channels, delivery reports and fallback, end to end over the real stack', function () {
  this.timeout(180_000);
  let stack: Stack;
  let baseUrl: string;

  before(async () => {
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    const config = loadConfig({
      ...(await sinkEnv()),
      PORT: String(port),
      PUBLIC_BASE_URL: baseUrl,
      API_KEYS: KEY,
      DATABASE_URL: await freshDatabase(),
      DATA_DIR: await tempDir('e2e-channels'),
      TEMPORAL_DEV_PORT: String(await freePort()),
      PRINT_SPOOL_DIR: (await sinks()).spoolDir,
      UNSUBSCRIBE_SECRET: TEST_UNSUBSCRIBE_SECRET,
    });
    stack = await startStack(config, pino({ level: 'silent' }), {
      headless: true,
      workflowBundle: await workflowBundle(),
      apiHost: '127.0.0.1',
    });
  });
  after(async () => {
    await stack?.stop();
  });

  const created: string[] = [];
  afterEach(async () => {
    for (const id of created.splice(0)) await api('POST', `/v1/journeys/${id}/archive`);
  });

  const api = async (method: string, route: string, body?: unknown): Promise<{ status: number; body: any }> => {
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
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  const eventually = async <T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  };

  const templates: SendStep['templates'] = {
    sms: { text: 'Your statement is ready.' },
    email: { subject: 'Your statement', text: 'Hello {{ consumer.attributes.firstName }}, it is ready.' },
    print: { subject: 'Your statement', text: 'Dear {{ consumer.attributes.firstName }}, it is enclosed.' },
    voice: { text: 'Your statement is ready.' },
  };

  /** Publishes a one-send journey triggered by its own event type (templates for its channels only). */
  const publish = async (send: Partial<SendStep>): Promise<{ id: string; trigger: string; topic: string }> => {
    const id = unique('statement');
    const trigger = `statement.ready-${id.replace(/[^a-z0-9]/g, '')}`;
    const topic = unique('statements');
    const definition: JourneyDefinition = {
      id,
      name: 'Statement ready',
      topic,
      trigger: { event: trigger },
      reentry: { policy: 'after-exit' },
      goals: [],
      exits: [],
      start: 'notify',
      steps: [
        {
          id: 'notify',
          type: 'send',
          channels: ['sms', 'email', 'print'],
          templates: Object.fromEntries(
            Object.entries(templates).filter(([channel]) =>
              (send.channels ?? ['sms', 'email', 'print']).includes(channel as Channel),
            ),
          ),
          next: 'done',
          ...send,
        },
        { id: 'done', type: 'exit' },
      ],
    };
    const res = await api('POST', '/v1/journeys', definition);
    assert.equal(res.status, 201, JSON.stringify(res.body));
    created.push(id);
    assert.equal((await api('POST', `/v1/journeys/${id}/publish`)).status, 201);
    return { id, trigger, topic };
  };

  const consumer = async () => {
    const id = unique('ada');
    const phone = `+1646${Math.floor(1e6 + Math.random() * 8e6)}`;
    const email = `${id}@example.com`;
    const res = await api('PUT', `/v1/consumers/${id}`, {
      email,
      phone,
      attributes: { firstName: 'Ada' },
      postalAddress: {
        name: 'Ada Lovelace',
        lines: ['12 St James Square'],
        city: 'London',
        postalCode: 'SW1Y 4JH',
        country: 'GB',
      },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return { id, phone, email };
  };

  const trigger = async (type: string, consumerId: string) => {
    const res = await api('POST', '/v1/events', {
      id: unique('evt'),
      type,
      consumerId,
      occurredAt: new Date().toISOString(),
      data: {},
    });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const result = res.body.results.find((r: { outcome: string }) => r.outcome === 'started');
    assert.ok(result, JSON.stringify(res.body));
    return result.workflowId as string;
  };

  const finalState = (workflowId: string) =>
    eventually('the run to end', async () => {
      const res = await api('GET', `/v1/runs/${encodeURIComponent(workflowId)}`);
      return res.body?.status === 'COMPLETED' ? res.body.state : undefined;
    });

  it('falls back from SMS to email to a letter on an undelivered callback and a bounce, and counts it', async () => {
    const { twilio, smtp, spoolDir } = await sinks();
    const journey = await publish({ fallback: { deliveredWithin: '2 minutes' } });
    const ada = await consumer();
    const workflowId = await trigger(journey.trigger, ada.id);

    // Twilio reports the SMS undelivered (carrier error 30003), signed, to the status webhook.
    const sms = await twilio.waitFor(ada.phone);
    assert.equal(sms.statusCallback, `${baseUrl}/webhooks/twilio/status`);
    assert.equal(await twilio.sendStatusCallback(sms.sid, 'sent'), 204);
    assert.equal(await twilio.sendStatusCallback(sms.sid, 'undelivered', { ErrorCode: '30003' }), 204);

    // The email goes out; the mail system reports a hard bounce.
    const mail = await smtp.waitFor(ada.email);
    const bounce = await api('POST', '/webhooks/email/events', {
      events: [{ type: 'bounce', bounceType: 'hard', messageId: mail.header('Message-ID'), email: ada.email }],
    });
    assert.equal(bounce.status, 202, JSON.stringify(bounce.body));
    assert.equal(bounce.body.results[0].outcome, 'applied');

    // The letter lands in the spool; the print house reports it mailed.
    const letter = await eventually('the letter', async () => {
      const { manifest } = await readSpool(spoolDir);
      return manifest.find((entry) => entry.key.startsWith(workflowId));
    });
    assert.equal(letter.name, 'Ada Lovelace');
    const mailed = await api('POST', '/webhooks/print/status', { events: [{ letterId: letter.id, status: 'mailed' }] });
    assert.equal(mailed.status, 202, JSON.stringify(mailed.body));

    const state = await finalState(workflowId);
    assert.deepEqual(
      state.messages.map((m: { channel: string; status: string }) => [m.channel, m.status]),
      [
        ['sms', 'failed'],
        ['email', 'bounced'],
        ['print', 'delivered'],
      ],
    );
    assert.match(
      state.steps.find((s: { id: string }) => s.id === 'notify').outcome,
      /sms failed.*30003.*email bounced.*print delivered/,
    );

    // Status histories, newest message first; the address is suppressed for every journey.
    const history = await api('GET', `/v1/consumers/${ada.id}/messages`);
    const smsHistory = history.body.messages.find((m: { channel: string }) => m.channel === 'sms');
    assert.deepEqual(
      smsHistory.events.map((e: { status: string; source: string }) => `${e.source}:${e.status}`),
      ['worker:sent', 'twilio:sent', 'twilio:failed'],
    );
    const suppressed = await api('GET', '/v1/suppressions?channel=email');
    assert.ok(suppressed.body.suppressions.some((s: { address: string }) => s.address === ada.email));

    const analytics = await api('GET', `/v1/journeys/${journey.id}/analytics`);
    assert.equal(analytics.status, 200);
    assert.equal(analytics.body.entered, 1);
    assert.equal(analytics.body.completed, 1);
    const byChannel = Object.fromEntries(analytics.body.channels.map((c: { channel: string }) => [c.channel, c]));
    const costs = loadConfig({}).channels.costs;
    assert.deepEqual(
      ['sms', 'email', 'print'].map((c) => [byChannel[c].sent, byChannel[c].delivered, byChannel[c].failed]),
      [
        [1, 0, 1],
        [1, 0, 1],
        [1, 1, 0],
      ],
    );
    assert.equal(byChannel.print.cost, costs.print);
    assert.equal(byChannel.sms.cost, costs.sms);
  });

  it('honours STOP and START sent from the consumer phone, and answers HELP', async () => {
    const { twilio, smtp } = await sinks();
    const ada = await consumer();
    const inbound = `${baseUrl}/webhooks/twilio/inbound`;
    const stop = await twilio.sendInboundSms(inbound, ada.phone, ' Stop ');
    assert.equal(stop.status, 200);

    const journey = await publish({ channels: ['sms', 'email'] });
    const first = await finalState(await trigger(journey.trigger, ada.id));
    assert.deepEqual(first.decisions[0].dropped, [{ channel: 'sms', reason: 'suppressed' }]);
    assert.equal(first.messages[0].channel, 'email');
    await smtp.waitFor(ada.email);

    const start = await twilio.sendInboundSms(inbound, ada.phone, 'START');
    assert.equal(start.status, 200);
    const second = await finalState(await trigger(journey.trigger, ada.id));
    assert.equal(second.messages[0].channel, 'sms');
    await twilio.waitFor(ada.phone);

    const help = await twilio.sendInboundSms(inbound, ada.phone, 'help');
    assert.match(help.body, /<Message>.*STOP.*<\/Message>/);
  });

  it('places a voice call and records the no-answer callback', async () => {
    const { twilio } = await sinks();
    const ada = await consumer();
    const journey = await publish({ channels: ['voice'] });
    const workflowId = await trigger(journey.trigger, ada.id);
    const call = await twilio.waitForCall(ada.phone);
    assert.match(call.twiml, /<Say[^>]*>Your statement is ready.<\/Say>/);
    await finalState(workflowId);
    assert.equal(await twilio.sendStatusCallback(call.sid, 'no-answer'), 204);
    const message = await eventually('the no-answer status', async () => {
      const res = await api('GET', `/v1/consumers/${ada.id}/messages`);
      const voice = res.body.messages.find((m: { channel: string }) => m.channel === 'voice');
      return voice?.status === 'failed' ? voice : undefined;
    });
    assert.ok(message.events.some((e: { detail?: string }) => /no-answer/.test(e.detail ?? '')));
  });

  it('unsubscribes from the topic with the one-click List-Unsubscribe link', async () => {
    const { smtp } = await sinks();
    const ada = await consumer();
    const journey = await publish({ channels: ['email'] });
    await finalState(await trigger(journey.trigger, ada.id));
    const mail = await smtp.waitFor(ada.email);
    const link = /<(http[^>]+)>/.exec(mail.header('List-Unsubscribe') ?? '')?.[1];
    assert.ok(link?.startsWith(`${baseUrl}/unsubscribe/`), mail.header('List-Unsubscribe'));
    assert.equal(mail.header('List-Unsubscribe-Post'), 'List-Unsubscribe=One-Click');
    const res = await fetch(link!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'List-Unsubscribe=One-Click',
    });
    assert.equal(res.status, 200);
    const preferences = await api('GET', `/v1/consumers/${ada.id}/preferences`);
    assert.equal(preferences.body.topics[journey.topic], false);

    const again = await finalState(await trigger(journey.trigger, ada.id));
    assert.deepEqual(again.decisions[0].dropped, [{ channel: 'email', reason: 'topic-opted-out' }]);
    assert.deepEqual(
      again.messages.map((m: { status: string; errorType: string }) => [m.status, m.errorType]),
      [['skipped', 'OptedOut']],
    );
  });
});

/**
 * A local HTTP server that answers like Twilio's Messages and Calls APIs, for Twilio's own client pointed at
 * it with TWILIO_API_URL. It checks the account's basic auth and honours Twilio's documented magic test
 * numbers: +15005550001 is an invalid number (400, code 21211 for messages, 21217 for calls) and
 * +15005550004 has opted out (400, code 21610). Tests can make it fail with 5xx or 429, and make it call
 * back like Twilio does: signed status callbacks and inbound messages.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import twilio from 'twilio';

/** An SMS the fake accepted. */
export interface FakeSms {
  sid: string;
  to: string;
  from: string;
  body: string;
  /** The `StatusCallback` the client passed, if any. */
  statusCallback?: string;
}

/** A call the fake accepted. */
export interface FakeCall {
  sid: string;
  to: string;
  from: string;
  twiml: string;
  statusCallback?: string;
  statusCallbackEvents: string[];
  statusCallbackMethod?: string;
}

/** One request to the Messages or Calls API, accepted or not. */
export interface FakeTwilioRequest {
  resource: 'Messages' | 'Calls';
  to: string;
  status: number;
}

/** A running fake. */
export interface FakeTwilio {
  url: string;
  accountSid: string;
  authToken: string;
  from: string;
  /** Accepted messages. */
  messages: FakeSms[];
  /** Accepted calls. */
  calls: FakeCall[];
  /** Every Messages.json and Calls.json request, accepted or not. */
  requests: FakeTwilioRequest[];
  /** The next `count` requests answer with `status` (e.g. 503, 429). */
  failNext(count: number, status: number): void;
  waitFor(to: string, timeoutMs?: number): Promise<FakeSms>;
  waitForCall(to: string, timeoutMs?: number): Promise<FakeCall>;
  /**
   * POSTs Twilio's status callback for the message (`SM…`) or call (`CA…`) `sid` to the statusCallback URL it
   * was created with, signed with `X-Twilio-Signature`; `extra` adds or overrides parameters (ErrorCode,
   * AnsweredBy, CallDuration, ...). Resolves with the HTTP status the receiver answered.
   */
  sendStatusCallback(sid: string, status: string, extra?: Record<string, string>): Promise<number>;
  /** POSTs a signed inbound-message webhook from `from` to the fake's number; resolves with the answer. */
  sendInboundSms(url: string, from: string, body: string): Promise<{ status: number; body: string }>;
  close(): Promise<void>;
}

/** Twilio's magic test number for "invalid phone number". */
export const INVALID_NUMBER = '+15005550001';
/** Twilio's magic test number for a recipient who replied STOP (error 21610). */
export const OPTED_OUT_NUMBER = '+15005550004';

const sid = (prefix: 'SM' | 'CA') => `${prefix}${randomBytes(16).toString('hex')}`;

/** Posts `params` form-encoded to `url` with the signature Twilio would compute with `authToken`. */
async function postSigned(
  authToken: string,
  url: string,
  params: Record<string, string>,
): Promise<{ status: number; body: string }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': twilio.getExpectedTwilioSignature(authToken, url, params),
      'user-agent': 'TwilioProxy/1.1',
    },
    body: new URLSearchParams(params).toString(),
  });
  return { status: response.status, body: await response.text() };
}

/** Starts the fake on 127.0.0.1. */
export async function startFakeTwilio(): Promise<FakeTwilio> {
  const accountSid = `AC${randomBytes(16).toString('hex')}`;
  const authToken = randomBytes(16).toString('hex');
  const from = '+15005550006';
  const messages: FakeSms[] = [];
  const calls: FakeCall[] = [];
  const requests: FakeTwilioRequest[] = [];
  let failures: { count: number; status: number } = { count: 0, status: 500 };

  const reply = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const error = (res: ServerResponse, status: number, code: number, message: string) =>
    reply(res, status, { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const expectedAuth = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
    const resource = /^\/2010-04-01\/Accounts\/([^/]+)\/(Messages|Calls)\.json$/.exec(req.url ?? '');
    if (req.method !== 'POST' || !resource || resource[1] !== accountSid) {
      return error(res, 404, 20404, 'The requested resource was not found');
    }
    if (req.headers.authorization !== expectedAuth) return error(res, 401, 20003, 'Authenticate');
    const kind = resource[2] as 'Messages' | 'Calls';
    const to = form.get('To') ?? '';
    const record = (status: number) => requests.push({ resource: kind, to, status });
    if (failures.count > 0) {
      failures.count -= 1;
      record(failures.status);
      return failures.status === 429
        ? error(res, 429, 20429, 'Too Many Requests')
        : error(res, failures.status, 20500, 'Internal Server Error');
    }
    if (to === INVALID_NUMBER || !/^\+\d{8,15}$/.test(to)) {
      record(400);
      return kind === 'Messages'
        ? error(res, 400, 21211, `The 'To' number ${to} is not a valid phone number.`)
        : error(res, 400, 21217, `Phone number ${to} does not appear to be valid.`);
    }
    if (to === OPTED_OUT_NUMBER && kind === 'Messages') {
      record(400);
      return error(res, 400, 21610, `Attempt to send to unsubscribed recipient ${to}`);
    }
    const statusCallback = form.get('StatusCallback') ?? undefined;
    const common = {
      account_sid: accountSid,
      to,
      from: form.get('From') ?? '',
      date_created: new Date().toUTCString(),
    };
    if (kind === 'Messages') {
      const message: FakeSms = { sid: sid('SM'), to, from: common.from, body: form.get('Body') ?? '', statusCallback };
      messages.push(message);
      record(201);
      return reply(res, 201, { ...common, sid: message.sid, body: message.body, status: 'queued' });
    }
    const call: FakeCall = {
      sid: sid('CA'),
      to,
      from: common.from,
      twiml: form.get('Twiml') ?? '',
      statusCallback,
      statusCallbackEvents: form.getAll('StatusCallbackEvent'),
      statusCallbackMethod: form.get('StatusCallbackMethod') ?? undefined,
    };
    calls.push(call);
    record(201);
    return reply(res, 201, { ...common, sid: call.sid, status: 'queued', direction: 'outbound-api' });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => reply(res, 500, { message: err.message }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };

  const waitUntil = async <T>(find: () => T | undefined, what: string, timeoutMs: number): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = find();
      if (found) return found;
      if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  return {
    url: `http://127.0.0.1:${port}`,
    accountSid,
    authToken,
    from,
    messages,
    calls,
    requests,
    failNext(count, status) {
      failures = { count, status };
    },
    waitFor: (to, timeoutMs = 20_000) =>
      waitUntil(() => messages.find((m) => m.to === to), `no SMS to ${to}`, timeoutMs),
    waitForCall: (to, timeoutMs = 20_000) =>
      waitUntil(() => calls.find((c) => c.to === to), `no call to ${to}`, timeoutMs),
    async sendStatusCallback(sidOf, status, extra = {}) {
      const message = messages.find((m) => m.sid === sidOf);
      const call = calls.find((c) => c.sid === sidOf);
      const url = message?.statusCallback ?? call?.statusCallback;
      if (!url) throw new Error(`no message or call ${sidOf} with a statusCallback`);
      // The parameters Twilio posts (https://www.twilio.com/docs/messaging/guides/track-outbound-message-status,
      // https://www.twilio.com/docs/voice/api/call-resource#statuscallback).
      const params: Record<string, string> = message
        ? {
            AccountSid: accountSid,
            ApiVersion: '2010-04-01',
            From: message.from,
            To: message.to,
            MessageSid: message.sid,
            SmsSid: message.sid,
            MessageStatus: status,
            SmsStatus: status,
            ...extra,
          }
        : {
            AccountSid: accountSid,
            ApiVersion: '2010-04-01',
            CallSid: sidOf,
            CallStatus: status,
            Direction: 'outbound-api',
            From: call?.from ?? '',
            To: call?.to ?? '',
            CallbackSource: 'call-progress-events',
            Timestamp: new Date().toUTCString(),
            ...(status === 'completed' ? { CallDuration: '0' } : {}),
            ...extra,
          };
      return (await postSigned(authToken, url, params)).status;
    },
    sendInboundSms(url, fromNumber, body) {
      const messageSid = sid('SM');
      return postSigned(authToken, url, {
        MessageSid: messageSid,
        SmsMessageSid: messageSid,
        SmsSid: messageSid,
        AccountSid: accountSid,
        From: fromNumber,
        To: from,
        Body: body,
        NumMedia: '0',
        NumSegments: '1',
        ApiVersion: '2010-04-01',
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A local HTTP server that answers like Twilio's Messages API, for Twilio's own client pointed at it
 * with TWILIO_API_URL. It checks the account's basic auth and honours Twilio's documented magic test
 * numbers: +15005550001 is an invalid number (400, code 21211). Tests can make it fail with 5xx.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

/** An SMS the fake accepted. */
export interface FakeSms {
  sid: string;
  to: string;
  from: string;
  body: string;
}

/** A running fake. */
export interface FakeTwilio {
  url: string;
  accountSid: string;
  authToken: string;
  from: string;
  /** Accepted messages. */
  messages: FakeSms[];
  /** Every Messages.json request, accepted or not. */
  requests: { to: string; status: number }[];
  /** The next `count` requests answer with `status` (e.g. 503). */
  failNext(count: number, status: number): void;
  waitFor(to: string, timeoutMs?: number): Promise<FakeSms>;
  close(): Promise<void>;
}

/** Twilio's magic test number for "invalid phone number". */
export const INVALID_NUMBER = '+15005550001';

/** Starts the fake on 127.0.0.1. */
export async function startFakeTwilio(): Promise<FakeTwilio> {
  const accountSid = `AC${randomBytes(16).toString('hex')}`;
  const authToken = randomBytes(16).toString('hex');
  const from = '+15005550006';
  const messages: FakeSms[] = [];
  const requests: { to: string; status: number }[] = [];
  let failures: { count: number; status: number } = { count: 0, status: 500 };

  const reply = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const expectedAuth = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString('base64')}`;
    if (req.method !== 'POST' || req.url !== `/2010-04-01/Accounts/${accountSid}/Messages.json`) {
      return reply(res, 404, { code: 20404, message: 'The requested resource was not found', status: 404 });
    }
    if (req.headers.authorization !== expectedAuth) {
      return reply(res, 401, { code: 20003, message: 'Authenticate', status: 401 });
    }
    const to = form.get('To') ?? '';
    const record = (status: number) => requests.push({ to, status });
    if (failures.count > 0) {
      failures.count -= 1;
      record(failures.status);
      return reply(res, failures.status, { code: 20500, message: 'Internal Server Error', status: failures.status });
    }
    if (to === INVALID_NUMBER || !/^\+\d{8,15}$/.test(to)) {
      record(400);
      return reply(res, 400, {
        code: 21211,
        message: `The 'To' number ${to} is not a valid phone number.`,
        status: 400,
      });
    }
    const sid = `SM${randomBytes(16).toString('hex')}`;
    const message = { sid, to, from: form.get('From') ?? '', body: form.get('Body') ?? '' };
    messages.push(message);
    record(201);
    return reply(res, 201, {
      sid,
      account_sid: accountSid,
      to,
      from: message.from,
      body: message.body,
      status: 'queued',
      date_created: new Date().toUTCString(),
    });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: Error) => reply(res, 500, { message: err.message }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    accountSid,
    authToken,
    from,
    messages,
    requests,
    failNext(count, status) {
      failures = { count, status };
    },
    async waitFor(to, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const sms = messages.find((m) => m.to === to);
        if (sms) return sms;
        if (Date.now() > deadline) throw new Error(`no SMS to ${to} within ${timeoutMs} ms`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

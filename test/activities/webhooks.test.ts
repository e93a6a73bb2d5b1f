/**
 * The outbound guard of webhook steps, attacked as a journey author holding one API key would (issue 9):
 * every way to reach this machine or the internal network is refused before a byte leaves, and what is
 * allowed is bounded in size and time. The targets are real HTTP servers on 127.0.0.1; a refused call
 * must never reach them.
 */
import assert from 'node:assert/strict';
import type { LookupAddress } from 'node:dns';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { callWebhook, type OutboundPolicy } from '../../activities/webhooks';
import { FailureType } from '../../contract/failures';
import { parseAllowedHosts } from '../../runtime/network-policy';

interface Target {
  url: string;
  port: number;
  hits: string[];
  close(): Promise<void>;
}

async function target(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<Target> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    hits,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A resolver that answers `addresses` for every name, counting its calls. */
function resolver(addresses: string[]): { lookup: OutboundPolicy['lookup']; calls: string[] } {
  const calls: string[] = [];
  const lookup = ((hostname: string, _options: unknown, callback: (err: null, all: LookupAddress[]) => void) => {
    calls.push(hostname);
    callback(
      null,
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
    );
  }) as unknown as OutboundPolicy['lookup'];
  return { lookup, calls };
}

const policy = (overrides: Partial<OutboundPolicy> = {}): OutboundPolicy => ({
  allowedHosts: [],
  maxResponseBytes: 65_536,
  ...overrides,
});

async function refusal(promise: Promise<unknown>, type: FailureType = FailureType.WebhookTargetForbidden) {
  const err = await promise.then(
    () => assert.fail('the call went through'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ApplicationFailure, String(err));
  assert.equal(err.type, type, err.message);
  assert.equal(err.nonRetryable, true);
  return err;
}

describe('callWebhook (outbound guard)', function () {
  this.timeout(20_000);
  let inside: Target;
  before(async () => {
    inside = await target((_req, res) => res.end(JSON.stringify({ secret: 'every workflow in the namespace' })));
  });
  after(() => inside.close());
  afterEach(() => {
    inside.hits.length = 0;
  });

  it('refuses this machine in every spelling, before connecting', async () => {
    for (const url of [
      `http://127.0.0.1:${inside.port}/api/v1/namespaces/default/workflows`,
      `https://127.0.0.1:${inside.port}/`,
      `https://[::1]:${inside.port}/`,
      `https://[::ffff:127.0.0.1]:${inside.port}/`,
      `https://[::ffff:7f00:1]:${inside.port}/`,
      `https://0x7f000001:${inside.port}/`,
      `https://2130706433:${inside.port}/`,
      `https://localhost:${inside.port}/`,
      'https://169.254.169.254/latest/meta-data/iam/security-credentials/',
      'https://10.0.0.1:5432/',
      'https://[fd00::1]/',
    ]) {
      await refusal(callWebhook({ url, method: 'POST' }, policy()));
    }
    assert.deepEqual(inside.hits, []);
  });

  it('refuses a public-looking name that resolves to an internal address', async () => {
    const { lookup, calls } = resolver(['8.8.8.8', '127.0.0.1']);
    const err = await refusal(
      callWebhook({ url: `https://hooks.example.com:${inside.port}/`, method: 'GET' }, policy({ lookup })),
    );
    assert.match(err.message, /resolves to an internal address \(127\.0\.0\.1\)/);
    assert.deepEqual(calls, ['hooks.example.com']);
    assert.deepEqual(inside.hits, []);
  });

  it('connects to the address it checked, resolving once (no DNS rebinding)', async () => {
    // The first answer is public (and unreachable here); a second resolution would say 127.0.0.1.
    let answers = 0;
    const calls: string[] = [];
    const lookup = ((hostname: string, _options: unknown, callback: (err: null, all: LookupAddress[]) => void) => {
      calls.push(hostname);
      answers += 1;
      callback(null, [{ address: answers === 1 ? '203.0.114.1' : '127.0.0.1', family: 4 }]);
    }) as unknown as OutboundPolicy['lookup'];
    await assert.rejects(
      callWebhook(
        { url: `https://rebind.example.com:${inside.port}/`, method: 'GET', timeoutMs: 1_000 },
        policy({ lookup }),
      ),
    );
    assert.deepEqual(calls, ['rebind.example.com']);
    assert.deepEqual(inside.hits, []);
  });

  it('refuses plain http to a host that is not allowed', async () => {
    await refusal(callWebhook({ url: 'http://hooks.example.com/score', method: 'POST' }, policy()));
  });

  it('checks every redirect: an allowed endpoint cannot bounce the call inside', async () => {
    const bouncer = await target((_req, res) => {
      res.writeHead(302, { location: `${inside.url}/api/v1/namespaces` });
      res.end();
    });
    try {
      const allowedHosts = parseAllowedHosts(`127.0.0.1:${bouncer.port}`, []);
      await refusal(callWebhook({ url: `${bouncer.url}/hook`, method: 'POST', body: {} }, policy({ allowedHosts })));
      assert.deepEqual(bouncer.hits, ['POST /hook']);
      assert.deepEqual(inside.hits, []);
    } finally {
      await bouncer.close();
    }
  });

  it('lets a host listed in WEBHOOK_ALLOWED_HOSTS through, with the body and the run data', async () => {
    let received: unknown;
    const allowed = await target((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received = JSON.parse(body);
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ score: 80 }));
      });
    });
    try {
      const allowedHosts = parseAllowedHosts(`127.0.0.1:${allowed.port}`, []);
      const result = await callWebhook(
        { url: `${allowed.url}/score`, method: 'POST', body: { reason: 'cart' }, context: { consumer: { id: 'c-1' } } },
        policy({ allowedHosts }),
      );
      assert.deepEqual(result, { status: 200, body: { score: 80 } });
      assert.deepEqual(received, { reason: 'cart', journey: { consumer: { id: 'c-1' } } });
    } finally {
      await allowed.close();
    }
  });

  it('stops reading an answer over the size cap and fails for good', async () => {
    const big = await target((_req, res) => res.end('x'.repeat(200_000)));
    try {
      const allowedHosts = parseAllowedHosts(`127.0.0.1:${big.port}`, []);
      await refusal(
        callWebhook({ url: big.url, method: 'GET' }, policy({ allowedHosts, maxResponseBytes: 10_000 })),
        FailureType.WebhookResponseTooLarge,
      );
    } finally {
      await big.close();
    }
  });

  it('aborts the socket at the deadline when the endpoint never answers (a retryable failure)', async () => {
    let closed = false;
    const silent = await target((req) => req.socket.once('close', () => (closed = true)));
    try {
      const allowedHosts = parseAllowedHosts(`127.0.0.1:${silent.port}`, []);
      const started = Date.now();
      const err = await callWebhook({ url: silent.url, method: 'GET', timeoutMs: 500 }, policy({ allowedHosts })).then(
        () => assert.fail('answered'),
        (e: unknown) => e as Error,
      );
      assert.ok(!(err instanceof ApplicationFailure), 'a timeout is retried');
      assert.match(err.message, /within 500 ms/);
      assert.ok(Date.now() - started < 2_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.equal(closed, true, 'the endpoint saw the connection closed');
    } finally {
      await silent.close();
    }
  });
});

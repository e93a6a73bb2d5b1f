import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { ConfigError, loadConfig } from '../../runtime/config';
import { createLogger, type LogFormat, perChannel, prettyLine, temporalSdkLogger } from '../../runtime/logger';

/** A destination that records what is written, claiming to be a terminal when `tty`. */
function capture(tty: boolean) {
  const stream = Object.assign(new PassThrough(), { isTTY: tty });
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  return { stream, lines };
}

function logOnce(tty: boolean, format?: LogFormat) {
  const { stream, lines } = capture(tty);
  const log = createLogger('info', 'api', { destination: stream, ...(format ? { format } : {}) });
  log.info({ workflowId: 'journey:bill-reminder:c-42', step: 'wait 3 days', attempt: 2 }, 'run started');
  return lines;
}

describe('createLogger', () => {
  it('writes JSON lines when the destination is not a terminal', () => {
    const [line, ...rest] = logOnce(false);
    assert.equal(rest.length, 0);
    const entry = JSON.parse(line ?? '') as Record<string, unknown>;
    assert.equal(entry.msg, 'run started');
    assert.equal(entry.workflowId, 'journey:bill-reminder:c-42');
    assert.equal(entry.level, 30);
  });

  it('writes one readable line per entry when the destination is a terminal', () => {
    const lines = logOnce(true);
    assert.equal(lines.length, 1);
    // Colours only decorate; without them the line reads as below.
    const plain = (lines[0] ?? '').replace(/\u001b\[\d+m/g, '');
    assert.match(
      plain,
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}api: run started workflowId=journey:bill-reminder:c-42 step="wait 3 days" attempt=2$/,
    );
  });

  it('follows LOG_FORMAT over the terminal check, both ways', () => {
    assert.throws(() => JSON.parse(logOnce(false, 'pretty')[0] ?? ''), SyntaxError);
    assert.equal((JSON.parse(logOnce(true, 'json')[0] ?? '') as { msg: string }).msg, 'run started');
    assert.equal(loadConfig({ LOG_FORMAT: 'pretty' }).logFormat, 'pretty');
    assert.equal(loadConfig({}).logFormat, 'auto');
    assert.throws(
      () => loadConfig({ LOG_FORMAT: 'yaml' }),
      (err: ConfigError) => /LOG_FORMAT/.test(err.message),
    );
  });

  for (const format of ['json', 'pretty'] as const) {
    it(`never writes contact details or message content (${format})`, () => {
      const { stream, lines } = capture(false);
      const log = createLogger('debug', 'worker', { destination: stream, format });
      log.info(
        {
          consumerId: 'c-42',
          email: 'ada@example.com',
          phone: '+15551230001',
          to: '+15551230002',
          consumer: { email: 'ada@example.com', phone: '+15551230001', attributes: { firstName: 'Ada' } },
          message: { subject: 'Your bill', body: 'Pay 10.00 USD', html: '<p>Pay</p>', text: 'Pay' },
        },
        'sent',
      );
      const out = lines.join('\n');
      for (const secret of ['ada@example.com', '+1555123000', 'Your bill', 'Pay', 'Ada'])
        assert.ok(!out.includes(secret), `${secret} leaked: ${out}`);
      assert.ok(out.includes('c-42'), 'the consumer id is not a contact detail');
      assert.ok(out.includes('[redacted]'));
    });
  }

  it('prints an error with its stack under the line, and passes through what is not JSON', () => {
    const { stream, lines } = capture(false);
    const log = createLogger('info', 'api', { destination: stream, format: 'pretty' });
    log.error({ err: new Error('boom') }, 'request failed');
    assert.match(lines[0] ?? '', /ERROR api: request failed$/);
    assert.match(lines[1] ?? '', /^ {4}Error: boom$/);
    assert.match(lines[2] ?? '', /^ {4}\s*at /);
    assert.equal(prettyLine('not json\n'), 'not json\n');
  });
});

describe('perChannel', () => {
  it("logs each channel's setting, the email channel's included (a map keyed by channel loses it to redaction)", () => {
    const { stream, lines } = capture(false);
    const log = createLogger('info', 'worker', { destination: stream });
    const providers = { email: 'smtp', sms: 'twilio', voice: 'twilio', print: 'spool' };
    log.info({ providers: perChannel(providers), rateLimits: perChannel({ email: 50, sms: 10 }) }, 'workers running');
    log.info({ providers }, 'workers running');
    const [listed, keyed] = lines.map((l) => JSON.parse(l) as { providers: unknown; rateLimits?: unknown });
    assert.equal(listed?.providers, 'email=smtp sms=twilio voice=twilio print=spool');
    assert.equal(listed?.rateLimits, 'email=50 sms=10');
    assert.deepEqual(keyed?.providers, { email: '[redacted]', sms: 'twilio', voice: 'twilio', print: 'spool' });
  });
});

describe('temporalSdkLogger', () => {
  // What the SDK hands its runtime logger: workflow code's `log` from @temporalio/workflow arrives with
  // sdkComponent 'workflow' (replay-aware, through the SDK's logger sink), the SDK's own entries with 'worker'.
  const runMeta = {
    sdkComponent: 'workflow',
    workflowId: 'journey:bill-reminder:c-42',
    workflowType: 'journeyWorkflow',
  };

  it("passes a run's lifecycle lines at info and keeps the SDK's own chatter to warnings", () => {
    const { stream, lines } = capture(false);
    const sdk = temporalSdkLogger(createLogger('info', 'journey-executor', { destination: stream }));
    sdk.info('run started', { ...runMeta, journeyId: 'bill-reminder', journeyVersion: 1 });
    sdk.info('step entered', { ...runMeta, step: 'send-email', type: 'send', visit: 1 });
    sdk.info('Workflow bundle created', { sdkComponent: 'worker', size: '1.2MB' });
    sdk.debug('Workflow started', { sdkComponent: 'worker' });
    sdk.warn('Worker state changed', { sdkComponent: 'worker', state: 'STOPPING' });
    const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      entries.map((e) => [e.level, e.msg]),
      [
        [30, 'run started'],
        [30, 'step entered'],
        [40, 'Worker state changed'],
      ],
    );
    assert.equal(entries[0]?.workflowId, 'journey:bill-reminder:c-42');
    assert.equal(entries[0]?.component, 'temporal-sdk');
    assert.equal(entries[1]?.step, 'send-email');
  });

  it('passes everything at debug', () => {
    const { stream, lines } = capture(false);
    const sdk = temporalSdkLogger(createLogger('debug', 'journey-executor', { destination: stream }));
    sdk.info('Workflow bundle created', { sdkComponent: 'worker' });
    sdk.debug('Workflow started', { sdkComponent: 'worker' });
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as { msg: string }).msg),
      ['Workflow bundle created', 'Workflow started'],
    );
  });
});

describe('createLogger on standard output', () => {
  /**
   * A child process logs 4 MiB to its stdout, a pipe this test does not read at first (as a log reader that falls
   * behind): the background writer must keep the process answering meanwhile, and then deliver every line once.
   */
  it('keeps the event loop running while nobody reads the log, and then writes every line whole, once, in order', async function () {
    this.timeout(60_000);
    const script = `
      const { createLogger } = require(${JSON.stringify(path.resolve(__dirname, '../../runtime/logger'))});
      const log = createLogger('info', 'api', { format: 'json' });
      const started = Date.now();
      for (let i = 0; i < 16384; i++) log.info({ i, pad: 'x'.repeat(200) }, 'line');
      // Answered only if the loop runs: a blocked write would hold the timer too.
      setTimeout(() => process.stderr.write('loop ' + (Date.now() - started) + '\\n'), 10);
    `;
    const child = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pause();
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    await waitUntil(() => stderr.includes('loop ') || child.exitCode !== null, 30_000);
    assert.match(stderr, /^loop \d+\n$/, `the child answered while its log was unread: ${stderr}`);
    // Now the reader catches up: every line arrives, whole and in order.
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stdout.resume();
    await new Promise((resolve) => child.once('exit', resolve));
    const lines = stdout.split('\n').filter(Boolean);
    assert.equal(lines.length, 16384);
    assert.deepEqual(
      lines.map((line) => (JSON.parse(line) as { i: number }).i),
      Array.from({ length: 16384 }, (_, i) => i),
    );
  });
});

async function waitUntil(done: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
}

import assert from 'node:assert/strict';
import path from 'node:path';
import { keyDigest } from '../../runtime/api-keys';
import { ConfigError, loadConfig } from '../../runtime/config';

describe('loadConfig', () => {
  it('defaults to the embedded development stack', () => {
    const config = loadConfig({});
    assert.equal(config.temporal.address, undefined);
    assert.equal(config.database.url, undefined);
    assert.equal(config.temporal.namespace, 'default');
    assert.equal(config.temporal.taskQueue, 'journeys');
    assert.equal(config.temporal.uiPort, 8233);
    assert.equal(config.api.port, 3000);
    assert.deepEqual(config.api.keys, []);
    assert.equal(config.twilio, undefined);
    assert.equal(config.email.smtpUrl, undefined);
    assert.equal(config.dataDir, path.resolve('.data'));
    assert.equal(config.journeys.billReminderDelay, '3 days');
  });

  it('reads servers, keys and providers from the environment', () => {
    const config = loadConfig({
      TEMPORAL_ADDRESS: 'temporal:7233',
      DATABASE_URL: 'postgres://u:p@db/journeys',
      API_KEYS: ' key-a , key-b,,',
      SMTP_URL: 'smtp://mail:1025',
      TWILIO_ACCOUNT_SID: 'AC1',
      TWILIO_AUTH_TOKEN: 'secret',
      TWILIO_FROM: '+15005550006',
      TWILIO_API_URL: 'http://127.0.0.1:9999',
      PUBLIC_BASE_URL: 'https://journeys.example.com',
      PORT: '8080',
    });
    assert.equal(config.temporal.address, 'temporal:7233');
    assert.equal(config.database.url, 'postgres://u:p@db/journeys');
    assert.deepEqual(
      config.api.keys.map((key) => key.digest),
      [keyDigest('key-a'), keyDigest('key-b')],
    );
    assert.equal(config.email.smtpUrl, 'smtp://mail:1025');
    assert.deepEqual(config.twilio, {
      accountSid: 'AC1',
      authToken: 'secret',
      from: '+15005550006',
      apiUrl: 'http://127.0.0.1:9999',
    });
    assert.equal(config.api.port, 8080);
  });

  it('treats empty variables as unset', () => {
    const config = loadConfig({ TEMPORAL_ADDRESS: '', DATABASE_URL: ' ', SMTP_URL: '' });
    assert.equal(config.temporal.address, undefined);
    assert.equal(config.database.url, undefined);
    assert.equal(config.email.smtpUrl, undefined);
  });

  it('names every invalid variable', () => {
    assert.throws(
      () => loadConfig({ PORT: 'eighty', LOG_LEVEL: 'loud', TWILIO_API_URL: 'not a url' }),
      (err: ConfigError) => {
        assert.ok(err instanceof ConfigError);
        assert.deepEqual(err.problems.map((p) => p.split(':')[0]).sort(), ['LOG_LEVEL', 'PORT', 'TWILIO_API_URL']);
        return true;
      },
    );
  });

  it('refuses a partial Twilio configuration', () => {
    assert.throws(() => loadConfig({ TWILIO_ACCOUNT_SID: 'AC1' }), /must be set together/);
  });

  it('requires PUBLIC_BASE_URL with Twilio: callbacks and their signatures depend on it', () => {
    const twilio = { TWILIO_ACCOUNT_SID: 'AC1', TWILIO_AUTH_TOKEN: 'secret', TWILIO_FROM: '+15005550006' };
    assert.throws(() => loadConfig(twilio), /PUBLIC_BASE_URL: required with Twilio/);
    assert.equal(loadConfig({ ...twilio, PUBLIC_BASE_URL: 'https://j.example.com' }).twilio?.accountSid, 'AC1');
  });

  it('reads the security settings: scoped keys, rate limits, webhook targets, encryption keys', () => {
    const key = Buffer.alloc(32, 7).toString('base64');
    const config = loadConfig({
      API_KEYS: 'producer=events:write',
      API_HOST: '127.0.0.1',
      RATE_LIMIT_PER_KEY: '50/s',
      RATE_LIMIT_PER_IP: 'off',
      WEBHOOK_ALLOWED_HOSTS: 'hooks.internal,127.0.0.1:9000',
      WEBHOOK_MAX_RESPONSE_BYTES: '1024',
      PAYLOAD_ENCRYPTION_KEYS: `k1=${key}`,
    });
    assert.deepEqual([...(config.api.keys[0]?.scopes ?? [])], ['events:write']);
    assert.equal(config.api.host, '127.0.0.1');
    assert.deepEqual(config.api.rateLimits.perKey, { limit: 50, perMs: 1000, text: '50/s' });
    assert.equal(config.api.rateLimits.perIp, undefined);
    assert.equal(config.api.rateLimits.unauthenticatedPerIp?.text, '10/s');
    assert.deepEqual(config.webhooks, {
      allowedHosts: [{ host: 'hooks.internal' }, { host: '127.0.0.1', port: 9000 }],
      maxResponseBytes: 1024,
    });
    assert.deepEqual(
      config.encryption.keys.map((k) => k.id),
      ['k1'],
    );
    assert.deepEqual(config.encryption.corsOrigins, ['http://localhost:8233', 'http://127.0.0.1:8233']);
    assert.throws(
      () => loadConfig({ RATE_LIMIT_PER_KEY: 'fast', API_KEYS: 'k=runs:reed', PAYLOAD_ENCRYPTION_KEYS: 'x=short' }),
      (err: ConfigError) => {
        assert.deepEqual(err.problems.map((p) => p.split(':')[0]).sort(), [
          'API_KEYS',
          'PAYLOAD_ENCRYPTION_KEYS',
          'RATE_LIMIT_PER_KEY',
        ]);
        return true;
      },
    );
  });
  it('reads channel settings: callback URL, costs, rate limits, caps, spool folder', () => {
    const defaults = loadConfig({ PORT: '4000' }).channels;
    assert.equal(defaults.publicBaseUrl, 'http://localhost:4000');
    assert.deepEqual(defaults.frequencyCaps, []);
    assert.equal(defaults.printSpoolDir, undefined);
    const config = loadConfig({
      PUBLIC_BASE_URL: 'https://journeys.example.com/',
      CHANNEL_COSTS: 'sms=0.01, print=1.2',
      CHANNEL_RATE_LIMITS: 'sms=1',
      COST_CURRENCY: 'EUR',
      PRINT_SPOOL_DIR: 'spool',
    }).channels;
    assert.equal(config.publicBaseUrl, 'https://journeys.example.com');
    assert.deepEqual(config.costs, { email: 0, sms: 0.01, voice: 0, print: 1.2 });
    assert.deepEqual(config.rateLimits, { sms: 1 });
    assert.equal(config.currency, 'EUR');
    assert.ok(config.printSpoolDir?.endsWith('/spool'));
  });

  it('names bad channel settings', () => {
    assert.throws(
      () => loadConfig({ CHANNEL_COSTS: 'fax=1,sms=-2', CHANNEL_RATE_LIMITS: 'email=fast', COST_CURRENCY: 'euro' }),
      (err: ConfigError) => {
        assert.deepEqual(err.problems.map((p) => p.split(':')[0]).sort(), ['COST_CURRENCY']);
        return true;
      },
    );
    assert.throws(
      () => loadConfig({ CHANNEL_COSTS: 'fax=1,sms=-2', CHANNEL_RATE_LIMITS: 'email=fast' }),
      (err: ConfigError) => {
        assert.deepEqual(
          err.problems.map((p) => p.split(':')[0]),
          ['CHANNEL_COSTS', 'CHANNEL_COSTS', 'CHANNEL_RATE_LIMITS'],
        );
        return true;
      },
    );
  });

  it('parses caps and names bad ones', () => {
    const hour = 3_600_000;
    const caps = loadConfig({ FREQUENCY_CAPS: 'all=3/7d,sms=1/24h' }).channels.frequencyCaps;
    assert.deepEqual(
      caps.map((c) => [c.channel, c.limit, c.windowMs]),
      [
        ['all', 3, 7 * 24 * hour],
        ['sms', 1, 24 * hour],
      ],
    );
    assert.throws(() => loadConfig({ FREQUENCY_CAPS: 'fax=1/1d' }), ConfigError);
    assert.throws(() => loadConfig({ FREQUENCY_CAPS: 'sms=0/1d' }), /FREQUENCY_CAPS/);
  });

  it('reads what a worker process runs: its workers and its relay, both by default', () => {
    assert.deepEqual(loadConfig({}).workerProcess, { workers: true, relay: true });
    assert.deepEqual(loadConfig({ RELAY_ENABLED: 'false', WORKERS_ENABLED: ' TRUE ' }).workerProcess, {
      workers: true,
      relay: false,
    });
    assert.deepEqual(loadConfig({ WORKERS_ENABLED: 'False', RELAY_ENABLED: '' }).workerProcess, {
      workers: false,
      relay: true,
    });
    assert.throws(
      () => loadConfig({ RELAY_ENABLED: 'no', WORKERS_ENABLED: '0' }),
      (err: ConfigError) => {
        assert.deepEqual(err.problems.sort(), [
          'RELAY_ENABLED: must be true or false',
          'WORKERS_ENABLED: must be true or false',
        ]);
        return true;
      },
    );
  });
});

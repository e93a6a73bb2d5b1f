/** The Web UI's remote codec endpoint: decrypts for a key with runs:read, only for the UI's origins. */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import request from 'supertest';
import { authenticate } from '../../../api/auth';
import { codecRoutes } from '../../../api/routes/codec';
import { apiKey } from '../../../runtime/api-keys';
import { EncryptionCodec } from '../../../runtime/payload-codec';
import { appWith } from '../../support/api';

const codec = new EncryptionCodec([{ id: 'k1', key: randomBytes(32) }]);
const keys = [apiKey('reader', ['runs:read']), apiKey('producer', ['events:write'])];
const UI = 'http://localhost:8233';

const app = (openOnLoopback = false) =>
  appWith(codecRoutes({ codec, corsOrigins: [UI], authenticate: authenticate(keys), openOnLoopback }));

const asJson = (payloads: Awaited<ReturnType<EncryptionCodec['encode']>>) => ({
  payloads: payloads.map((p) => ({
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
    data: Buffer.from(p.data ?? []).toString('base64'),
  })),
});

describe('codec routes', () => {
  it('decodes what the service encrypted, and encodes, for a key with runs:read', async () => {
    const sealed = await codec.encode([defaultPayloadConverter.toPayload({ card: '4111 1111 1111 1111' })]);
    const res = await request(app()).post('/codec/decode').set('authorization', 'Bearer reader').send(asJson(sealed));
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(Buffer.from(res.body.payloads[0].data, 'base64').toString()), {
      card: '4111 1111 1111 1111',
    });
    const encoded = await request(app())
      .post('/codec/encode')
      .set('authorization', 'Bearer reader')
      .send(asJson([defaultPayloadConverter.toPayload('x')]));
    assert.equal(Buffer.from(encoded.body.payloads[0].metadata.encoding, 'base64').toString(), 'binary/encrypted');
  });

  it('answers 401 without a key and 403 without runs:read', async () => {
    const body = asJson(await codec.encode([defaultPayloadConverter.toPayload('secret')]));
    assert.equal((await request(app()).post('/codec/decode').send(body)).status, 401);
    const producer = await request(app()).post('/codec/decode').set('authorization', 'Bearer producer').send(body);
    assert.deepEqual([producer.status, producer.body.error.scope], [403, 'runs:read']);
  });

  it('lets loopback callers in without a key only in development-key mode', async () => {
    const body = asJson(await codec.encode([defaultPayloadConverter.toPayload('dev')]));
    assert.equal((await request(app(true)).post('/codec/decode').send(body)).status, 200);
  });

  it("answers the Web UI's preflight for its origin only", async () => {
    const ui = await request(app()).options('/codec/decode').set('origin', UI);
    assert.equal(ui.status, 204);
    assert.equal(ui.headers['access-control-allow-origin'], UI);
    assert.match(ui.headers['access-control-allow-headers'] ?? '', /X-Namespace/);
    const stranger = await request(app()).options('/codec/decode').set('origin', 'https://evil.example');
    assert.equal(stranger.headers['access-control-allow-origin'], undefined);
  });

  it('takes the empty body the Temporal CLI sends for a query without arguments', async () => {
    const res = await request(app()).post('/codec/encode').set('authorization', 'Bearer reader').send({});
    assert.deepEqual([res.status, res.body], [200, { payloads: [] }]);
  });
});

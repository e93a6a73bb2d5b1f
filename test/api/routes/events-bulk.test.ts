/** POST /v1/events/bulk: NDJSON streamed into the inbox, bad lines reported by number, the same dedupe. */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { Express } from 'express';
import request from 'supertest';
import { MAX_LINE_BYTES } from '../../../api/routes/events-bulk';
import type { Db } from '../../../runtime/db';
import { API_KEY, journeysApp, unreachableTemporal, validEvent } from '../../support/api';
import { postgres, unique } from '../../support/resources';

const ndjson = (...lines: unknown[]) =>
  lines.map((line) => (typeof line === 'string' ? line : JSON.stringify(line))).join('\n');

describe('POST /v1/events/bulk', () => {
  let app: Express;
  let db: Db;

  before(async () => {
    ({ db } = await postgres());
    // Accepting never needs Temporal: the relay delivers later.
    app = await journeysApp(await unreachableTemporal());
  });

  const bulk = (body: string | Buffer, headers: Record<string, string> = {}) =>
    request(app)
      .post('/v1/events/bulk')
      .set({ authorization: `Bearer ${API_KEY}`, 'content-type': 'application/x-ndjson', ...headers })
      .send(body);

  const stored = async (ids: string[]) =>
    (await db('events_received').whereIn('event_id', ids).select<{ event_id: string }[]>('event_id')).map(
      (row) => row.event_id,
    );

  it('accepts the good lines and reports each bad one by its number and field; blank lines and CRLF are fine', async () => {
    const [a, b, c] = [validEvent(), validEvent(), validEvent()];
    const res = await bulk(
      [
        JSON.stringify(a),
        '{"id": "broken"',
        '',
        `${JSON.stringify(b)}\r`,
        JSON.stringify(validEvent({ consumerId: 'a b' })),
        JSON.stringify(validEvent({ data: { note: 'nul\u0000' } })),
        JSON.stringify(c),
      ].join('\n'),
    );
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.deepEqual(
      { ...res.body, errors: undefined },
      { lines: 7, accepted: 3, duplicates: 0, rejected: 3, errors: undefined },
    );
    assert.deepEqual(
      res.body.errors.map((e: { line: number; fields: { path: string }[] }) => [e.line, e.fields.map((f) => f.path)]),
      [
        [2, ['(body)']],
        [5, ['consumerId']],
        [6, ['data.note']],
      ],
    );
    assert.deepEqual((await stored([a.id, b.id, c.id])).sort(), [a.id, b.id, c.id].sort());
    const receipt = await request(app).get(`/v1/events/${b.id}`).set('authorization', `Bearer ${API_KEY}`);
    assert.equal(receipt.body.status, 'accepted');
  });

  it('answers ids accepted before, and repeated within the file, as duplicates', async () => {
    const [a, b] = [validEvent(), validEvent()];
    assert.equal((await bulk(ndjson(a))).body.accepted, 1);
    const res = await bulk(ndjson(a, b, b));
    assert.deepEqual([res.body.accepted, res.body.duplicates, res.body.rejected], [1, 2, 0]);
  });

  it('skips a line over the limit without holding it, and reads on', async () => {
    const after = validEvent();
    const long = JSON.stringify(validEvent({ data: { blob: 'x'.repeat(MAX_LINE_BYTES) } }));
    const res = await bulk(`${long}\n${JSON.stringify(after)}`);
    assert.equal(res.status, 202);
    assert.deepEqual(res.body.errors, [{ line: 1, message: `longer than ${MAX_LINE_BYTES} bytes` }]);
    assert.equal(res.body.accepted, 1);
  });

  it('takes a gzip-encoded body, and answers 400 for a broken one', async () => {
    const event = validEvent();
    const res = await bulk(gzipSync(ndjson(event)), { 'content-encoding': 'gzip' });
    assert.equal(res.status, 202, JSON.stringify(res.body));
    assert.equal(res.body.accepted, 1);
    const broken = await bulk(Buffer.from('not gzip at all'), { 'content-encoding': 'gzip' });
    assert.equal(broken.status, 400);
    assert.equal(broken.body.error.fields[0].message, 'not valid gzip');
  });

  it('answers 415 naming the body for JSON or an unknown encoding, and 400 for an empty body', async () => {
    const json = await bulk(JSON.stringify(validEvent()), { 'content-type': 'application/json' });
    assert.equal(json.status, 415);
    assert.equal(json.body.error.fields[0].path, '(body)');
    assert.equal((await bulk(ndjson(validEvent()), { 'content-encoding': 'br' })).status, 415);
    const empty = await bulk('');
    assert.equal(empty.status, 400);
  });

  it('streams a body of 20 000 lines sent in small chunks, every line accepted', async () => {
    const prefix = unique('bulk');
    const total = 20_000;
    const lines = function* () {
      for (let i = 0; i < total; i++) yield `${JSON.stringify(validEvent({ id: `${prefix}-${i}` }))}\n`;
    };
    const server = app.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const answer = await new Promise<{ status: number; body: any }>((resolve, reject) => {
        const req = httpRequest(
          {
            port: (server.address() as AddressInfo).port,
            host: '127.0.0.1',
            method: 'POST',
            path: '/v1/events/bulk',
            headers: { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/x-ndjson' },
          },
          (res) => {
            let text = '';
            res.on('data', (chunk: Buffer) => (text += chunk.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
          },
        );
        req.on('error', reject);
        Readable.from(lines()).pipe(req);
      });
      assert.equal(answer.status, 202);
      assert.deepEqual([answer.body.lines, answer.body.accepted, answer.body.rejected], [total, total, 0]);
      const counted = await db('events_received')
        .where('event_id', 'like', `${prefix}-%`)
        .count<{ n: string }[]>({ n: '*' });
      assert.equal(Number(counted[0]?.n), total);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      // Not left waiting in the shared database, where a later suite's relay would have to deliver them all first.
      await db('events_received').where('event_id', 'like', `${prefix}-%`).delete();
    }
  });
});

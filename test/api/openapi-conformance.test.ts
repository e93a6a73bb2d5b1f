/**
 * The OpenAPI document agrees with the server: real answers validate against its schemas (Ajv, JSON Schema 2020-12),
 * and what a schema allows the server accepts, what it forbids the server refuses. Each case is a finding of
 * schemathesis (docs/testing.md, "Schemathesis") kept as a regression test.
 */
import assert from 'node:assert/strict';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Express } from 'express';
import fc from 'fast-check';
import request from 'supertest';
import { openApiDocument } from '../../api/openapi';
import { countryCode, suppressionBody, timeZone } from '../../api/schemas';
import { duration, positiveDurationPattern } from '../../journeys/schema';
import { auth, journeysApp, postEvent, validEvent } from '../support/api';
import { openRunsTemporal, unique } from '../support/resources';

type Doc = { paths: Record<string, Record<string, any>>; components: { schemas: Record<string, unknown> } };

describe('OpenAPI document against the server', () => {
  const doc = openApiDocument() as Doc;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema({ $id: 'doc', components: doc.components }, 'doc');

  /** The schema of `method path`'s `status` answer, its component references resolved within the document. */
  const answerSchema = (method: string, path: string, status: string) => {
    const schema = doc.paths[path]?.[method]?.responses?.[status]?.content?.['application/json']?.schema;
    assert.ok(schema, `${method} ${path} ${status} has no schema`);
    return JSON.parse(JSON.stringify(schema).replaceAll('"#/components/', '"doc#/components/')) as object;
  };
  const conforms = (method: string, path: string, status: string, body: unknown) => {
    const validate = ajv.compile(answerSchema(method, path, status));
    assert.ok(validate(body), `${method} ${path} ${status}: ${ajv.errorsText(validate.errors)}`);
  };

  let app: Express;
  before(async () => {
    app = await journeysApp((await openRunsTemporal()).client);
  });

  it('describes the answer of POST /v1/events by exactly one branch, single or batch (was both: ST108)', async () => {
    const schema = answerSchema('post', '/v1/events', '202') as { oneOf: object[] };
    const single = await postEvent(app, validEvent({ type: 'page.viewed' }));
    const batch = await postEvent(app, [validEvent(), validEvent({ type: 'page.viewed' })]);
    for (const res of [single, batch]) {
      assert.equal(res.status, 202);
      conforms('post', '/v1/events', '202', res.body);
      assert.equal(schema.oneOf.filter((branch) => ajv.validate(branch, res.body)).length, 1);
    }
  });

  it('describes real answers of the consumer, journey, message and event routes', async () => {
    const id = unique('c');
    const put = await request(app)
      .put(`/v1/consumers/${id}`)
      .set(auth)
      .send({
        email: 'a@example.com',
        postalAddress: { name: 'A', lines: ['1 Main St'], city: 'X', postalCode: '1', country: 'US' },
      });
    assert.equal(put.status, 201);
    conforms('put', '/v1/consumers/{id}', '201', put.body);
    conforms(
      'get',
      '/v1/consumers/{id}/preferences',
      '200',
      (await request(app).get(`/v1/consumers/${id}/preferences`).set(auth)).body,
    );
    conforms('get', '/v1/journeys', '200', (await request(app).get('/v1/journeys').set(auth)).body);
    conforms('get', '/v1/journeys/{id}', '200', (await request(app).get('/v1/journeys/bill-reminder').set(auth)).body);
    conforms('get', '/v1/topics', '200', (await request(app).get('/v1/topics').set(auth)).body);
    conforms('get', '/v1/messages', '200', (await request(app).get('/v1/messages?limit=5').set(auth)).body);
    conforms('get', '/v1/outbox', '200', (await request(app).get('/v1/outbox?limit=5').set(auth)).body);
    const event = validEvent({ consumerId: id });
    await postEvent(app, event);
    conforms('get', '/v1/events/{id}', '200', (await request(app).get(`/v1/events/${event.id}`).set(auth)).body);
  });

  it('refuses a validation request without a body, as its schema requires one (was 200: ST201)', async () => {
    const res = await request(app).post('/v1/journeys/validate').set(auth);
    assert.equal(res.status, 400);
    const invalid = await request(app).post('/v1/journeys/validate').set(auth).send({ id: 'x' });
    assert.equal(invalid.status, 200);
    assert.equal(invalid.body.valid, false);
  });

  it("gives email addresses zod's pattern and no format, which disagreed with it both ways (ST201)", () => {
    const text = JSON.stringify(doc);
    assert.ok(!text.includes('"format":"email"'));
    const email =
      doc.paths['/v1/suppressions']!.post.requestBody.content['application/json'].schema.oneOf[0].properties.address;
    const pattern = new RegExp(email.pattern as string);
    for (const address of ["e+-x.Oe'WU9@2PH0O.kz", 'a@example.com', 'a@b', 'not an address', '.a@example.com']) {
      const accepted = suppressionBody.safeParse({ channel: 'email', address }).success;
      assert.equal(pattern.test(address), accepted, address);
    }
  });

  it('lists exactly the country codes the API accepts (ST202: "AA" was schema-valid)', () => {
    const listed = new Set(
      (doc.components.schemas.ConsumerInput as any).properties.postalAddress.anyOf[0].properties.country.enum,
    );
    const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    for (const a of letters)
      for (const b of letters) {
        const code = a + b;
        assert.equal(listed.has(code), countryCode.safeParse(code).success, code);
      }
  });

  it('lists time zones the API accepts (ST202: "" was schema-valid)', () => {
    const preferences = doc.paths['/v1/consumers/{id}/preferences']!.put.requestBody.content['application/json'].schema;
    const zones = preferences.properties.timeZone.anyOf[0].enum as string[];
    assert.ok(zones.length > 300 && zones.includes('America/New_York') && zones.includes('UTC'));
    for (const zone of zones) assert.ok(timeZone.safeParse(zone).success, zone);
    assert.equal(timeZone.safeParse('').success, false);
  });

  it('gives durations that must be longer than zero a pattern that says so (ST202: "0millisecond")', () => {
    for (const value of ['0millisecond', '0.0 s', '-1 day', '1ms', '.5h', '0.5 days', '10s', '01.0m', '1.', 'x'])
      assert.equal(positiveDurationPattern.test(value), duration.safeParse(value).success, value);
    fc.assert(
      fc.property(
        fc.stringMatching(/^-?\d{0,3}\.?\d{1,3} ?(ms|s|m|h|d|w|y|days?|minutes?)$/),
        (value) => positiveDurationPattern.test(value) === duration.safeParse(value).success,
      ),
    );
    const maxLifetime = (doc.components.schemas.JourneyDefinition as any).properties.maxLifetime;
    assert.equal(maxLifetime.pattern, positiveDurationPattern.source);
  });

  it('documents the codec body as the server reads it: payloads optional, no other field (ST201)', () => {
    const body = doc.paths['/codec/decode']!.post.requestBody.content['application/json'].schema;
    assert.equal(body.additionalProperties, false);
    assert.ok(!(body.required ?? []).includes('payloads'));
  });
});

/** PUT and GET /v1/consumers/:id: create-or-update, contact points (postal address included), validation. */
import assert from 'node:assert/strict';
import type { Express } from 'express';
import request from 'supertest';
import { consumersRoutes } from '../../../api/routes/consumers';
import { auth, fieldsOf, v1App } from '../../support/api';
import { postgres, unique } from '../../support/resources';

describe('/v1/consumers', () => {
  let app: Express;

  before(async () => {
    const { db } = await postgres();
    app = v1App(consumersRoutes({ db }));
  });

  const put = (id: string, body: unknown) =>
    request(app)
      .put(`/v1/consumers/${encodeURIComponent(id)}`)
      .set(auth)
      .send(body as object);

  it('creates (201), then updates only the given fields (200)', async () => {
    const id = unique('c');
    const created = await put(id, { email: 'ada@example.com', phone: '+14155550100', attributes: { tier: 'gold' } });
    assert.equal(created.status, 201);
    const updated = await put(id, { phone: null });
    assert.equal(updated.status, 200);
    assert.deepEqual(
      [updated.body.email, updated.body.phone, updated.body.attributes],
      ['ada@example.com', null, { tier: 'gold' }],
    );
    const read = await request(app).get(`/v1/consumers/${id}`).set(auth);
    assert.equal(read.body.phone, null);
  });

  it('answers 400 naming bad email and phone', async () => {
    const res = await put(unique('c'), { email: 'not-an-email', phone: '0415 555' });
    assert.equal(res.status, 400);
    assert.deepEqual(fieldsOf(res.body), ['email', 'phone']);
  });

  it('answers 404 for an unknown consumer', async () => {
    const res = await request(app)
      .get(`/v1/consumers/${unique('none')}`)
      .set(auth);
    assert.equal(res.status, 404);
    assert.equal(res.body.error.code, 'NotFound');
  });

  describe('postal address', () => {
    const address = {
      name: 'Ada Lovelace',
      lines: ['12 St James Square', 'Flat 3'],
      city: 'London',
      postalCode: 'SW1Y 4JH',
      country: 'GB',
    };

    it('stores it, keeps it when absent and clears it with null', async () => {
      const id = unique('c');
      const created = await put(id, { email: 'ada@example.com', postalAddress: address });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      assert.deepEqual(created.body.postalAddress, address);
      const kept = await put(id, { phone: '+14155550100' });
      assert.deepEqual(kept.body.postalAddress, address);
      const read = await request(app).get(`/v1/consumers/${id}`).set(auth);
      assert.deepEqual(read.body.postalAddress, address);
      const withRegion = { ...address, region: 'Greater London' };
      assert.deepEqual((await put(id, { postalAddress: withRegion })).body.postalAddress, withRegion);
      const cleared = await put(id, { postalAddress: null });
      assert.equal(cleared.body.postalAddress, null);
      assert.equal(cleared.body.email, 'ada@example.com');
    });

    it('is null for a consumer created without one', async () => {
      const res = await put(unique('c'), { email: 'x@example.com' });
      assert.equal(res.body.postalAddress, null);
    });

    const bad: [string, unknown, string[]][] = [
      ['an unassigned country code', { ...address, country: 'XX' }, ['postalAddress.country']],
      ['a three-letter country', { ...address, country: 'GBR' }, ['postalAddress.country']],
      ['a lower-case country', { ...address, country: 'gb' }, ['postalAddress.country']],
      ['no lines', { ...address, lines: [] }, ['postalAddress.lines']],
      ['five lines', { ...address, lines: ['a', 'b', 'c', 'd', 'e'] }, ['postalAddress.lines']],
      [
        'an empty city and no postal code',
        { ...address, city: ' ', postalCode: undefined },
        ['postalAddress.city', 'postalAddress.postalCode'],
      ],
      ['an unknown field', { ...address, county: 'x' }, ['postalAddress.county']],
    ];
    for (const [name, postalAddress, fields] of bad) {
      it(`answers 400 naming the field for ${name}`, async () => {
        const res = await put(unique('c'), { postalAddress });
        assert.equal(res.status, 400, JSON.stringify(res.body));
        assert.deepEqual(fieldsOf(res.body), fields);
      });
    }
  });
});

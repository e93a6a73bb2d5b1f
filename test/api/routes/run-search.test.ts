/** GET /v1/runs: run search over Temporal visibility, on a real dev server (SQLite visibility). */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Express } from 'express';
import request from 'supertest';
import {
  encodePageToken,
  runSearchPage,
  runSearchPaths,
  runSearchRoutes,
  runSummary,
  visibilityQuery,
} from '../../../api/routes/run-search';
import { searchAttributes } from '../../../contract/search-attributes';
import { startTemporalDevServer } from '../../../dev/temporal-dev-server';
import { temporal } from '@temporalio/proto';
import { defaultPayloadConverter } from '@temporalio/common';
import { auth, fieldsOf, v1App } from '../../support/api';
import { freePort, onTeardown, tempDir, unique } from '../../support/resources';

interface Listed {
  workflowId: string;
  journeyId: string;
  journeyVersion: number;
  consumerId: string;
  status: string;
  executionStatus: string;
  step: string;
  startTime: string;
  closeTime: string | null;
}

describe('GET /v1/runs', function () {
  this.timeout(120_000);
  let client: Client;
  let app: Express;
  const journeyA = unique('ja');
  const journeyB = unique('jb');
  const consumer1 = unique('c1');
  const consumer2 = unique('c2');
  /** workflowId -> what it was started with. */
  const started = new Map<string, { journeyId: string; consumerId: string; version: number; step: string }>();

  before(async () => {
    const dir = await tempDir('run-search');
    const server = await startTemporalDevServer({
      port: await freePort(),
      namespace: 'default',
      logFile: path.join(dir, 'temporal.log'),
    });
    onTeardown(() => server.stop());
    const connection = await Connection.connect({ address: server.address });
    onTeardown(() => connection.close());
    client = new Client({ connection });
    app = v1App(runSearchRoutes({ client }));
    // Runs without a worker: they stay open with the search attributes they were started with.
    const runs = [
      { journeyId: journeyA, consumerId: consumer1, version: 1, step: 'start' },
      { journeyId: journeyA, consumerId: consumer2, version: 2, step: 'wait-3d' },
      { journeyId: journeyA, consumerId: unique('c3'), version: 2, step: 'wait-3d' },
      { journeyId: journeyB, consumerId: consumer1, version: 1, step: 'start' },
      { journeyId: journeyA, consumerId: unique('c4'), version: 1, step: 'send-email' },
    ];
    for (const run of runs) {
      const workflowId = `journey:${run.journeyId}:${run.consumerId}`;
      await client.workflow.start('journeyWorkflow', {
        workflowId,
        taskQueue: unique('nobody'),
        args: [{}],
        typedSearchAttributes: [
          { key: searchAttributes.consumerId, value: run.consumerId },
          { key: searchAttributes.journeyId, value: run.journeyId },
          { key: searchAttributes.journeyVersion, value: run.version },
          { key: searchAttributes.journeyStep, value: run.step },
          { key: searchAttributes.journeyStatus, value: 'running' },
        ],
      });
      started.set(workflowId, run);
    }
    // The last one is terminated by an operator: Temporal ended it, whatever its JourneyStatus says.
    await client.workflow.getHandle([...started.keys()].at(-1)!).terminate('test');
    // Visibility is eventually consistent: wait until every run is listed as it now is.
    for (let tries = 0; ; tries++) {
      const res = await request(app).get(`/v1/runs?journeyId=${journeyA}&status=terminated`).set(auth);
      const all = await request(app).get(`/v1/runs?pageSize=100`).set(auth);
      if (res.body.runs?.length === 1 && all.body.runs?.length === 5) break;
      if (tries > 100) throw new Error(`visibility never caught up: ${JSON.stringify(all.body)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  });

  const search = async (query: string): Promise<Listed[]> => {
    const res = await request(app).get(`/v1/runs?${query}`).set(auth);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.runs;
  };
  const ids = (runs: Listed[]) => runs.map((run) => run.workflowId).sort();
  const idsWhere = (
    match: (run: { journeyId: string; consumerId: string; version: number; step: string }) => boolean,
  ) =>
    [...started]
      .filter(([, run]) => match(run))
      .map(([id]) => id)
      .sort();

  it('lists each run with its journey, version, consumer, status, step and times', async () => {
    const [run] = await search(`consumerId=${consumer2}`);
    assert.ok(run);
    assert.equal(run.workflowId, `journey:${journeyA}:${consumer2}`);
    assert.equal(run.journeyId, journeyA);
    assert.equal(run.journeyVersion, 2);
    assert.equal(run.consumerId, consumer2);
    assert.equal(run.status, 'running');
    assert.equal(run.executionStatus, 'RUNNING');
    assert.equal(run.step, 'wait-3d');
    assert.ok(!Number.isNaN(Date.parse(run.startTime)));
    assert.equal(run.closeTime, null);
    assert.ok((run as unknown as { runId: string }).runId);
  });

  it('filters by journey, consumer, step, version and status, combined with AND', async () => {
    assert.deepEqual(
      ids(await search(`journeyId=${journeyA}`)),
      idsWhere((r) => r.journeyId === journeyA),
    );
    assert.deepEqual(
      ids(await search(`consumerId=${consumer1}`)),
      idsWhere((r) => r.consumerId === consumer1),
    );
    assert.deepEqual(
      ids(await search(`journeyId=${journeyA}&step=wait-3d`)),
      idsWhere((r) => r.journeyId === journeyA && r.step === 'wait-3d'),
    );
    assert.deepEqual(
      ids(await search(`journeyId=${journeyA}&version=1`)),
      idsWhere((r) => r.journeyId === journeyA && r.version === 1),
    );
    assert.deepEqual(ids(await search(`journeyId=${journeyB}&consumerId=${consumer2}`)), []);
  });

  it('says a run Temporal ended is not running, whatever its journey status recorded', async () => {
    const running = await search(`journeyId=${journeyA}&status=running`);
    assert.equal(running.length, 3);
    const [terminated] = await search(`journeyId=${journeyA}&status=terminated`);
    assert.equal(terminated?.status, 'terminated');
    assert.equal(terminated?.executionStatus, 'TERMINATED');
    assert.ok(terminated?.closeTime);
    assert.deepEqual(await search(`journeyId=${journeyA}&status=completed`), []);
  });

  it('pages with an opaque token until every run was listed once', async () => {
    const seen: string[] = [];
    let token: string | null = null;
    let pages = 0;
    do {
      const res: request.Response = await request(app)
        .get(`/v1/runs?journeyId=${journeyA}&pageSize=2${token ? `&pageToken=${token}` : ''}`)
        .set(auth);
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.ok(res.body.runs.length <= 2);
      seen.push(...res.body.runs.map((run: Listed) => run.workflowId));
      token = res.body.nextPageToken;
      pages++;
    } while (token && pages < 10);
    assert.deepEqual(
      seen.sort(),
      idsWhere((r) => r.journeyId === journeyA),
    );
    assert.ok(pages >= 2);
  });

  it('lists open runs newest started first', async () => {
    const running = await search(`journeyId=${journeyA}&status=running`);
    const starts = running.map((run) => run.startTime);
    assert.deepEqual(starts, [...starts].sort().reverse());
  });

  it('answers 400 naming query.pageToken for a token of other filters or a made-up one', async () => {
    const first = await request(app).get(`/v1/runs?journeyId=${journeyA}&pageSize=1`).set(auth);
    assert.ok(first.body.nextPageToken);
    for (const url of [
      `/v1/runs?journeyId=${journeyB}&pageSize=1&pageToken=${first.body.nextPageToken}`,
      `/v1/runs?pageToken=bm90LWEtdG9rZW4`,
      `/v1/runs?pageToken=${Buffer.from(JSON.stringify({ q: 'x', t: 'AAAA' })).toString('base64url')}`,
      `/v1/runs?pageToken=${encodeURIComponent('a b')}`,
      // Ours in form, but not a token Temporal gave out.
      `/v1/runs?pageToken=${encodePageToken(randomBytes(32), visibilityQuery({}), Buffer.from('not a real token'))}`,
    ]) {
      const res = await request(app).get(url).set(auth);
      assert.equal(res.status, 400, `${url} ${res.status} ${JSON.stringify(res.body)}`);
      assert.deepEqual(fieldsOf(res.body), ['query.pageToken'], url);
    }
  });

  it('answers 400 naming the field for a value that would change the query, never running it', async () => {
    for (const [query, field] of [
      [`consumerId=${encodeURIComponent(`${consumer1}" OR JourneyId != "x`)}`, 'query.consumerId'],
      [`journeyId=${encodeURIComponent('a") OR ("1"="1')}`, 'query.journeyId'],
      [`step=${encodeURIComponent('x\\')}`, 'query.step'],
      [`version=${encodeURIComponent('1 OR 1=1')}`, 'query.version'],
      ['status=RUNNING', 'query.status'],
      ['pageSize=1000', 'query.pageSize'],
      ['colour=red', 'query.colour'],
    ]) {
      const res = await request(app).get(`/v1/runs?${query}`).set(auth);
      assert.equal(res.status, 400, query);
      assert.deepEqual(fieldsOf(res.body), [field], query);
    }
  });

  it('honours a page token of another API process sharing the encryption keys', async () => {
    const keys = [{ id: 'k1', key: randomBytes(32) }];
    const one = v1App(runSearchRoutes({ client, encryptionKeys: keys }));
    const other = v1App(runSearchRoutes({ client, encryptionKeys: keys }));
    const first = await request(one).get(`/v1/runs?journeyId=${journeyA}&pageSize=1`).set(auth);
    const next = await request(other)
      .get(`/v1/runs?journeyId=${journeyA}&pageSize=1&pageToken=${first.body.nextPageToken}`)
      .set(auth);
    assert.equal(next.status, 200, JSON.stringify(next.body));
    assert.notEqual(next.body.runs[0]?.workflowId, first.body.runs[0]?.workflowId);
  });

  it('escapes every string it puts into the visibility query', () => {
    const query = visibilityQuery({ consumerId: 'a"b\\', journeyId: 'j' });
    assert.ok(query.includes('ConsumerId = "a\\"b\\\\"'), query);
    assert.ok(query.includes('JourneyId = "j"'), query);
  });

  it('reports a run Temporal cancelled as cancelled though its journey status still says running', () => {
    const payload = (value: unknown) => defaultPayloadConverter.toPayload(value);
    const summary = runSummary({
      execution: { workflowId: 'w', runId: 'r' },
      status: temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_CANCELED,
      searchAttributes: { indexedFields: { JourneyStatus: payload('running'), JourneyVersion: payload(3) } },
    });
    assert.equal(summary.status, 'cancelled');
    assert.equal(summary.executionStatus, 'CANCELED');
    assert.equal(summary.journeyVersion, 3);
  });

  it('answers as its OpenAPI schema says', async () => {
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    const validate = ajv.compile(runSearchPage);
    for (const query of [
      `journeyId=${journeyA}&pageSize=2`,
      `journeyId=${journeyA}&status=terminated`,
      'journeyId=none',
    ]) {
      const res = await request(app).get(`/v1/runs?${query}`).set(auth);
      assert.ok(validate(res.body), `${query}: ${JSON.stringify(validate.errors)}`);
    }
    const get = runSearchPaths['/v1/runs']?.get as { responses: Record<string, { content?: unknown }> };
    assert.deepEqual(get.responses['200']?.content, { 'application/json': { schema: runSearchPage } });
  });
});

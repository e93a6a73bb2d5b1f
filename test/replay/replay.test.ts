import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { workflowBundle } from '../support/resources';

const historiesDir = path.join(__dirname, 'histories');
const fixtures = readdirSync(historiesDir)
  .filter((file) => file.endsWith('.json'))
  .sort();

const load = (file: string): unknown => JSON.parse(readFileSync(path.join(historiesDir, file), 'utf8'));

describe('replay of recorded histories', function () {
  this.timeout(60_000);

  it('has a fixture for every shape of the bill-reminder journey', () => {
    assert.deepEqual(fixtures, [
      'bill-reminder-v1-invalid-phone.json',
      'bill-reminder-v1-paid-during-wait.json',
      'bill-reminder-v1-reminder-sent.json',
    ]);
  });

  for (const file of fixtures) {
    it(`replays ${file} against the current workflow code`, async () => {
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, load(file), file);
    });
  }

  it('raises DeterminismViolationError when the workflow changed shape without patched()', async () => {
    const changed = await bundleWorkflowCode({
      workflowsPath: require.resolve('./changed-workflow'),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
    });
    await assert.rejects(
      Worker.runReplayHistory({ workflowBundle: changed }, load('bill-reminder-v1-reminder-sent.json'), 'changed'),
      DeterminismViolationError,
    );
  });
});

import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DeterminismViolationError } from '@temporalio/workflow';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { stepTypes } from '../../contract/steps';
import { tracedWorkflowBundle, workflowBundle } from '../support/resources';

const historiesDir = path.join(__dirname, 'histories');
const fixtures = readdirSync(historiesDir)
  .filter((file) => file.endsWith('.json'))
  .sort();

const load = (file: string): unknown => JSON.parse(readFileSync(path.join(historiesDir, file), 'utf8'));

/** The workflow input recorded in a JSON history's first event. */
function startInput(history: unknown): unknown {
  const events = (
    history as { events: { workflowExecutionStartedEventAttributes?: { input?: { payloads?: { data: string }[] } } }[] }
  ).events;
  const payload = events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
  assert.ok(payload, 'history starts with the workflow input');
  return JSON.parse(Buffer.from(payload.data, 'base64').toString('utf8'));
}

describe('replay of recorded histories', function () {
  this.timeout(60_000);

  it('has a fixture for every shape of the bill-reminder journey', () => {
    assert.deepEqual(
      fixtures.filter((f) => f.startsWith('bill-reminder-')),
      [
        'bill-reminder-v1-invalid-phone.json',
        'bill-reminder-v1-paid-during-wait.json',
        'bill-reminder-v1-reminder-sent.json',
        // bill-reminder-truth-v1: a cancelled run that records its end; per-run controls and the recorded end.
        'bill-reminder-v2-cancelled.json',
        'bill-reminder-v2-controls.json',
      ],
    );
  });

  // v1: histories from before the omni-channel patch; v2: with it (channel decisions, progress records).
  for (const shape of ['journey-v1-', 'journey-v2-']) {
    it(`has ${shape}* fixtures that cover every step type the interpreter runs`, () => {
      const covered = new Set<string>();
      for (const file of fixtures.filter((f) => f.startsWith(shape))) {
        const input = startInput(load(file)) as { journey: { definition: { steps: { type: string }[] } } };
        for (const step of input.journey.definition.steps) covered.add(step.type);
      }
      assert.deepEqual(
        stepTypes.filter((type) => !covered.has(type)),
        [],
      );
    });
  }

  it('has v2 fixtures of the omni-channel send shapes: fallback, quiet hours, skipped by caps', () => {
    for (const name of ['journey-v2-fallback', 'journey-v2-quiet-hours', 'journey-v2-frequency-cap']) {
      assert.ok(fixtures.includes(`${name}.json`), `missing ${name}.json`);
    }
  });

  it('has v3 fixtures of the operator-truth shapes: a cancelled run, per-run controls, noted choices', () => {
    for (const name of ['journey-v3-cancelled', 'journey-v3-controls', 'journey-v3-choices']) {
      assert.ok(fixtures.includes(`${name}.json`), `missing ${name}.json`);
    }
  });

  it('has v4 fixtures of the lean-history shapes: send-wait-exit, goal, fallback, quiet hours, cancelled', () => {
    for (const name of ['send-wait-exit', 'goal', 'fallback', 'quiet-hours', 'cancelled']) {
      assert.ok(fixtures.includes(`journey-v4-${name}.json`), `missing journey-v4-${name}.json`);
    }
  });

  it('has fixtures of the holdout-v1 shapes: a held-out run and a treated run of a journey with a holdout', () => {
    for (const name of ['journey-holdout-held-out', 'journey-holdout-treated']) {
      assert.ok(fixtures.includes(`${name}.json`), `missing ${name}.json`);
    }
  });

  for (const file of fixtures) {
    it(`replays ${file} against the current workflow code`, async () => {
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, load(file), file);
    });
  }

  // Tracing (runtime/tracing.ts) bundles the SDK's OpenTelemetry workflow interceptors: they put trace headers on
  // commands and record SDK flags, never a command of their own, so histories replay with or without them.
  it('replays every fixture with the tracing interceptors in the workflow bundle', async () => {
    const traced = await tracedWorkflowBundle();
    // The workflow spans' sink, as a traced worker has it (replay never calls it).
    const sinks = { exporter: { export: { fn: () => undefined } } };
    for (const file of fixtures) await Worker.runReplayHistory({ workflowBundle: traced, sinks }, load(file), file);
  });

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

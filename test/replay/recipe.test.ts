/**
 * The replay recipe of docs/testing.md, run: a live run's history exported the way `journeys export-history`
 * exports it becomes a fixture; a workflow change without `patched()` fails its replay with a
 * DeterminismViolationError naming the fixture; the same change behind `patched()` replays again.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { exportHistory } from '../../cli/history';
import { loadConfig } from '../../runtime/config';
import { historyToJson } from '../../runtime/temporal-history';
import { tempDir } from '../support/resources';
import { journeyEvent, useWorkflowHarness } from '../support/workflow-harness';

const root = path.resolve(__dirname, '..', '..');

/** `npx journeys replay <fixture> [--workflows <module>]`, as an engineer runs it. */
function replay(fixture: string, workflows?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const args = ['-r', 'ts-node/register/transpile-only', path.join(root, 'cli', 'main.ts'), 'replay', fixture];
  if (workflows) args.push('--workflows', path.join(__dirname, 'changed-workflow', workflows));
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: root }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe('the replay recipe (docs/testing.md)', function () {
  this.timeout(180_000);
  const h = useWorkflowHarness('recipe');

  it('exports a live history, fails its replay after an unguarded change, and replays it again behind patched()', async () => {
    // 1. A real run on the time-skipping server: the bill reminder, three days skipped.
    const consumer = await h.newConsumer({ attributes: { firstName: 'Ada' } });
    const trigger = journeyEvent(consumer.id, 'bill.issued', { billId: 'B-7', amount: '12.00', currency: 'EUR' });
    const workflowId = await h.run(async () => {
      const handle = await h.startBillReminder(consumer.id, trigger);
      assert.equal((await handle.result()).status, 'completed');
      return handle.workflowId;
    });

    // 2. Its history, exported through the CLI's code path with the service's configuration, as a fixture.
    const address = (h.env as { address: string }).address;
    const config = loadConfig({ TEMPORAL_ADDRESS: address, DATA_DIR: await tempDir('recipe-data') });
    const fixture = path.join(await tempDir('recipe'), 'bill-reminder-recipe.json');
    await writeFile(fixture, historyToJson(await exportHistory(config, workflowId)));

    // 3. It replays against the current workflow code.
    const current = await replay(fixture);
    assert.equal(current.code, 0, current.stdout + current.stderr);
    assert.equal(current.stdout, `ok   ${fixture}\n`);

    // 4. The change without patched(): the replay fails, naming the fixture and the nondeterminism.
    const unguarded = await replay(fixture, 'unguarded.ts');
    assert.equal(unguarded.code, 1);
    assert.match(unguarded.stdout, new RegExp(`^FAIL ${fixture}: DeterminismViolationError: `));
    assert.match(unguarded.stderr, /0 replayed, 1 failed/);

    // 5. The same change behind patched(): green again.
    const guarded = await replay(fixture, 'patched.ts');
    assert.equal(guarded.code, 0, guarded.stdout + guarded.stderr);
    assert.equal(guarded.stdout, `ok   ${fixture}\n`);
  });
});

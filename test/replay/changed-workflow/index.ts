/**
 * A deliberately changed bill-reminder workflow (it waits before looking the consumer up) without a
 * `patched()` guard: replaying the recorded histories against it must fail.
 */
import { condition, proxyActivities, setHandler, sleep } from '@temporalio/workflow';
import type { Activities } from '../../../activities';
import { eventSignal } from '../../../contract/journey-run';

const { lookupConsumer } = proxyActivities<Activities>({ startToCloseTimeout: '10 seconds' });

export async function billReminderWorkflow(input: { consumerId: string }): Promise<void> {
  let triggered = false;
  setHandler(eventSignal, () => {
    triggered = true;
  });
  await condition(() => triggered);
  await sleep('1 hour');
  await lookupConsumer(input.consumerId);
}

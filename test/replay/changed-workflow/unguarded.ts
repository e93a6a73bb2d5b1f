/**
 * The replay recipe's change, unguarded (docs/testing.md): the bill reminder now waits an hour before it looks
 * the consumer up. Histories recorded before the change must not replay against it.
 */
import { sleep } from '@temporalio/workflow';
import { billReminderWorkflow as current } from '../../../workflows/bill-reminder';

export async function billReminderWorkflow(input: Parameters<typeof current>[0]): ReturnType<typeof current> {
  await sleep('1 hour');
  return current(input);
}

/**
 * The replay recipe's change, guarded (docs/testing.md): runs started after the change wait an hour before they
 * look the consumer up; runs recorded before it (no marker in their history) replay as they ran.
 */
import { patched, sleep } from '@temporalio/workflow';
import { billReminderWorkflow as current } from '../../../workflows/bill-reminder';

export async function billReminderWorkflow(input: Parameters<typeof current>[0]): ReturnType<typeof current> {
  if (patched('recipe-wait-before-lookup')) await sleep('1 hour');
  return current(input);
}

/** What a journey's lifecycle changes do to runs that are already open. */
import type { Client } from '@temporalio/client';
import { pauseSignal } from '../contract/journey-run';

/**
 * Pauses (true) or resumes (false) every open run of `journeyId`, found through Temporal visibility (an
 * operator action, not the event path); a paused run holds before its next send. Returns how many runs
 * took the signal (a run that ended meanwhile is skipped).
 */
export async function signalOpenRuns(client: Client, journeyId: string, paused: boolean): Promise<number> {
  let count = 0;
  const query = `JourneyId = "${journeyId}" AND ExecutionStatus = "Running" AND WorkflowType = "journeyWorkflow"`;
  for await (const execution of client.workflow.list({ query })) {
    await client.workflow
      .getHandle(execution.workflowId, execution.runId)
      .signal(pauseSignal, paused)
      .then(() => (count += 1))
      .catch(() => undefined);
  }
  return count;
}

/**
 * Turns an accepted event into Temporal calls: start-or-signal the runs it triggers, signal the open
 * runs that listen for it. Every call returns only after Temporal durably accepted it.
 */
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import type { BillReminderInput } from '../workflows/bill-reminder';
import { billReminder } from '../workflows/bill-reminder';
import { eventSignal, type JourneyEvent, journeyWorkflowId, searchAttributes } from '../workflows/definitions';
import type { billReminderWorkflow } from '../workflows';

/** What happened to an event in one journey. */
export interface RoutingResult {
  journeyId: string;
  workflowId: string;
  /** `delivered`: started a run or signalled the open one; `ignored`: no open run listens for it. */
  outcome: 'delivered' | 'ignored';
  runId?: string;
}

/** Settings of the built-in journeys. */
export interface RoutingOptions {
  taskQueue: string;
  billReminderDelay: string;
}

/** Routes one event to the built-in journeys. */
export async function routeEvent(
  client: Client,
  event: JourneyEvent,
  options: RoutingOptions,
): Promise<RoutingResult[]> {
  const workflowId = journeyWorkflowId(billReminder.id, event.consumerId);
  if (event.type === billReminder.trigger) {
    const input: BillReminderInput = { consumerId: event.consumerId, reminderAfter: options.billReminderDelay };
    const handle = await client.workflow.signalWithStart<typeof billReminderWorkflow, [JourneyEvent]>(
      'billReminderWorkflow',
      {
        workflowId,
        taskQueue: options.taskQueue,
        args: [input],
        signal: eventSignal,
        signalArgs: [event],
        typedSearchAttributes: [
          { key: searchAttributes.consumerId, value: event.consumerId },
          { key: searchAttributes.journeyId, value: billReminder.id },
          { key: searchAttributes.journeyVersion, value: billReminder.version },
          { key: searchAttributes.journeyStep, value: 'start' },
          { key: searchAttributes.journeyStatus, value: 'running' },
        ],
        staticSummary: `${billReminder.id} v${billReminder.version} for consumer ${event.consumerId}`,
      },
    );
    return [{ journeyId: billReminder.id, workflowId, outcome: 'delivered', runId: handle.signaledRunId }];
  }
  if (event.type === billReminder.goal) {
    try {
      await client.workflow.getHandle(workflowId).signal(eventSignal, event);
      return [{ journeyId: billReminder.id, workflowId, outcome: 'delivered' }];
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return [{ journeyId: billReminder.id, workflowId, outcome: 'ignored' }];
      throw err;
    }
  }
  return [];
}

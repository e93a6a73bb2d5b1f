/** Steps that call out of the run: `update-profile` (our PostgreSQL) and `webhook` (a business endpoint). */
import { isCancellation } from '@temporalio/workflow';
import { describeFailure } from '../../../contract/failures';
import type { UpdateProfileStep, WebhookStep } from '../../../contract/journey-definition';
import { webhooks } from '../../activity-profiles';
import type { JourneyRun } from '../run';

/** `update-profile`: merges the step's attributes into the consumer; later steps see the result. */
export async function runUpdateProfile(run: JourneyRun, step: UpdateProfileStep): Promise<string | undefined> {
  const label = step.name ?? step.id;
  const attributes = await run.records.updateConsumerAttributes.executeWithOptions(
    { summary: `${label}: update profile` },
    [run.consumerId, step.set],
  );
  run.data.consumer.attributes = attributes;
  run.leave(`set ${Object.keys(step.set).join(', ')}`);
  return step.next;
}

/** `webhook`: calls the endpoint; its answer (or the failure) is kept under `webhooks.<step id>`. */
export async function runWebhook(run: JourneyRun, step: WebhookStep): Promise<string | undefined> {
  const label = step.name ?? step.id;
  try {
    const result = await webhooks.callWebhook.executeWithOptions(
      {
        summary: `${label}: ${step.method ?? 'POST'} webhook`,
        startToCloseTimeout: step.timeout ?? '10 seconds',
      },
      [{ url: step.url, method: step.method ?? 'POST', body: step.body, context: run.data }],
    );
    run.data.webhooks[step.id] = result;
    run.leave(`HTTP ${result.status}`);
  } catch (err) {
    if (isCancellation(err)) throw err; // a cancelled run ends as cancelled, not as a failed step
    const failure = describeFailure(step.id, err);
    run.data.webhooks[step.id] = { status: 0, body: null, error: failure.type };
    run.leave(`failed: ${failure.type}`);
  }
  return step.next;
}

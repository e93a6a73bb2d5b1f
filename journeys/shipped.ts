/**
 * Journeys the service ships with, created and published on first start when absent. They are ordinary
 * journeys from then on: the business changes them through the API like any other.
 */
import type { Db } from '../runtime/db';
import type { Logger } from '../runtime/logger';
import { createJourney, getJourney, publishDraft } from '../stores/journeys';
import type { JourneyDefinition } from '../contract/journey-definition';

/** The bill reminder: email on `bill.issued`, wait, SMS unless `payment.received` ended the run. */
export function billReminderJourney(delay: string): JourneyDefinition {
  return {
    id: 'bill-reminder',
    name: 'Bill reminder',
    topic: 'billing',
    trigger: { event: 'bill.issued' },
    reentry: { policy: 'after-exit' },
    goals: [{ event: 'payment.received' }],
    exits: [],
    start: 'send-email',
    steps: [
      {
        id: 'send-email',
        type: 'send',
        channels: ['email'],
        templates: {
          email: {
            subject: 'Your bill {{ trigger.data.billId }} is ready',
            text:
              'Hello {{ consumer.attributes.firstName }},\n\n' +
              'your bill {{ trigger.data.billId }} for {{ trigger.data.amount }} {{ trigger.data.currency }} is due on {{ trigger.data.dueDate }}.\n',
          },
        },
        next: 'wait-for-payment',
      },
      { id: 'wait-for-payment', type: 'wait', duration: delay, next: 'send-sms' },
      {
        id: 'send-sms',
        type: 'send',
        channels: ['sms'],
        templates: {
          sms: {
            text: 'Reminder: bill {{ trigger.data.billId }} ({{ trigger.data.amount }} {{ trigger.data.currency }}) is due on {{ trigger.data.dueDate }}.',
          },
        },
        next: 'done',
      },
      { id: 'done', type: 'exit' },
    ],
  };
}

/** Creates and publishes the shipped journeys that do not exist yet; never touches existing ones. */
export async function seedJourneys(db: Db, options: { billReminderDelay: string }, log: Logger): Promise<void> {
  for (const definition of [billReminderJourney(options.billReminderDelay)]) {
    if (await getJourney(db, definition.id)) continue;
    if (await createJourney(db, definition)) {
      const published = await publishDraft(db, definition.id);
      log.info({ journeyId: definition.id, version: published?.version }, 'shipped journey created and published');
    }
  }
}

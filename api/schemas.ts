/** The API's request schemas: validated at the edge, and the source of the documented formats. */
import { z } from 'zod';

/** Consumer ids and other keys that end up in workflow ids: printable, no spaces. */
export const identifier = z
  .string()
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:@-]*$/, 'use letters, digits and . _ : @ - (starting with a letter or digit)');

/** E.164: + then up to 15 digits. */
export const phoneNumber = z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 phone number such as +14155550100');

/** Event types: dotted lower-case names, shared by events and the journeys they trigger. */
export const eventType = z
  .string()
  .max(100)
  .regex(/^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)+$/, 'must be a dotted lower-case name such as bill.issued');

/** Body of `PUT /v1/consumers/:id`. */
export const consumerBody = z
  .object({
    email: z.email().max(254).nullable().optional(),
    phone: phoneNumber.nullable().optional(),
    attributes: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

/** Body of `POST /v1/events`. */
export const eventBody = z
  .object({
    id: z.string().min(1).max(200),
    type: eventType,
    consumerId: identifier,
    occurredAt: z.iso.datetime({ offset: true }),
    data: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();

export type EventBody = z.infer<typeof eventBody>;

/** Most events one `POST /v1/events` may carry as a JSON array. */
export const MAX_EVENT_BATCH = 100;

/** Body of `POST /v1/events` as a batch: each event is routed on its own. */
export const eventBatch = z.array(eventBody).min(1).max(MAX_EVENT_BATCH);

/** Query of list endpoints. */
export const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(100),
  consumerId: identifier.optional(),
  journeyId: identifier.optional(),
  channel: z.enum(['email', 'sms']).optional(),
});

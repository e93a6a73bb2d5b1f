/** The API's request schemas: validated at the edge, and the source of the documented formats. */
import { z } from 'zod';
import { channels } from '../contract/channels';
import { eventType, identifier } from '../journeys/schema';

/** E.164: + then up to 15 digits. */
export const phoneNumber = z.string().regex(/^\+[1-9]\d{6,14}$/, 'must be an E.164 phone number such as +14155550100');

/** A channel a message can go out on. */
export const channel = z.enum(channels);

const regionNames = new Intl.DisplayNames(['en'], { type: 'region' });

/** Every code ICU names (the assigned ISO 3166-1 alpha-2 codes), sorted. */
function assignedCountryCodes(): string[] {
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
  return [...letters].flatMap((a) =>
    [...letters].map((b) => a + b).filter((code) => code !== 'ZZ' && regionNames.of(code) !== code),
  );
}

/** ISO 3166-1 alpha-2 country code, upper case (`US`, `GB`); ICU names every assigned code, echoes others. */
export const countryCode = z
  .string()
  // The JSON schema lists the codes, so that a client (and a fuzzer) knows which two letters are accepted.
  .meta({ enum: assignedCountryCodes() })
  .regex(/^[A-Z]{2}$/, { message: 'must be an ISO 3166-1 alpha-2 country code such as US', abort: true })
  .refine((code) => code !== 'ZZ' && regionNames.of(code) !== code, 'is not an assigned ISO 3166-1 country code');

const addressText = (max: number) => z.string().trim().min(1).max(max);

/** A consumer's postal address, where letters go. */
export const postalAddress = z
  .object({
    name: addressText(200),
    lines: z.array(addressText(200)).min(1).max(4),
    city: addressText(100),
    region: addressText(100).optional(),
    postalCode: addressText(20),
    country: countryCode,
  })
  .strict();

/** Body of `PUT /v1/consumers/:id`. */
export const consumerBody = z
  .object({
    email: z.email().max(254).nullable().optional(),
    phone: phoneNumber.nullable().optional(),
    postalAddress: postalAddress.nullable().optional(),
    attributes: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

/** An IANA time zone name (`America/New_York`), as Intl knows it; stored in its canonical spelling. */
export const timeZone = z
  .string()
  .max(64)
  // The JSON schema lists the canonical names; legacy aliases (US/Eastern) are accepted too and stored canonical.
  .meta({ enum: [...new Set([...Intl.supportedValuesOf('timeZone'), 'UTC'])].sort() })
  .refine((zone) => canonicalTimeZone(zone) !== undefined, 'must be an IANA time zone such as America/New_York')
  .transform((zone) => canonicalTimeZone(zone) ?? zone);

function canonicalTimeZone(zone: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** A BCP-47 language tag of language, optional script and optional region (`es`, `es-MX`, `zh-Hant-TW`). */
export const locale = z
  .string()
  .max(35)
  .regex(/^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|\d{3}))?$/, 'must be a BCP-47 language tag such as es or es-MX')
  .transform((tag) => Intl.getCanonicalLocales(tag)[0] ?? tag);

/** A time of day, `HH:MM` on a 24-hour clock. */
export const timeOfDay = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day HH:MM such as 21:30');

/** Hours not to contact the consumer, in their time zone; `end` before `start` wraps midnight. */
export const quietHours = z
  .object({ start: timeOfDay, end: timeOfDay })
  .strict()
  .refine((hours) => hours.start !== hours.end, { path: ['end'], message: 'must differ from start' });

/** Body of `PUT /v1/consumers/:id/preferences`: only the given fields change, the maps are merged. */
export const preferencesBody = z
  .object({
    channels: z.partialRecord(channel, z.boolean()).optional(),
    topics: z
      .record(identifier, z.boolean())
      .refine((topics) => Object.keys(topics).length <= 100, 'at most 100 topics at once')
      .optional(),
    channelOrder: z
      .array(channel)
      .min(1)
      .max(channels.length)
      .superRefine((order, ctx) => {
        order.forEach((value, index) => {
          if (order.indexOf(value) !== index)
            ctx.addIssue({ code: 'custom', path: [index], message: `${value} is already in the order` });
        });
      })
      .nullable()
      .optional(),
    quietHours: quietHours.nullable().optional(),
    timeZone: timeZone.nullable().optional(),
    locale: locale.nullable().optional(),
  })
  .strict();

export type PreferencesBody = z.infer<typeof preferencesBody>;

/** Body of `PUT /v1/topics/:id`. */
export const topicBody = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    transactional: z.boolean(),
  })
  .strict();

/** Query of `GET /v1/suppressions`. */
export const suppressionsQuery = z.object({
  channel: channel.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});

/** Body of `POST /v1/suppressions`: an operator's manual entry. */
export const suppressionBody = z.discriminatedUnion('channel', [
  z.object({ channel: z.literal('email'), address: z.email().max(254) }).strict(),
  z.object({ channel: z.enum(['sms', 'voice']), address: phoneNumber }).strict(),
]);

/** Query of `GET /v1/consumers/:id/messages`. */
export const messageHistoryQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

/** Most events one delivery webhook request may carry. */
export const MAX_WEBHOOK_EVENTS = 100;

/** How far in the past a delivery report's time may be (providers retry for days, not months). */
export const REPORT_MAX_AGE_MS = 30 * 24 * 60 * 60 * 1000;
/** How far in the future a report's time may be (clock skew). */
export const REPORT_MAX_SKEW_MS = 5 * 60 * 1000;

const reportedAt = z.iso
  .datetime({ offset: true, abort: true })
  .refine((value) => {
    const at = Date.parse(value);
    return at >= Date.now() - REPORT_MAX_AGE_MS && at <= Date.now() + REPORT_MAX_SKEW_MS;
  }, 'must be within the last 30 days and not more than 5 minutes ahead')
  .optional();

/** One email delivery event, as an email provider's webhook adapter reports it. */
export const emailEvent = z
  .object({
    type: z.enum(['delivered', 'bounce', 'complaint']),
    /** The Message-ID the message was sent with (with or without angle brackets). */
    messageId: z.string().trim().min(1).max(998).optional(),
    email: z.email().max(254).optional(),
    bounceType: z.enum(['hard', 'soft']).optional(),
    at: reportedAt,
  })
  .strict()
  .superRefine((event, ctx) => {
    if (event.type === 'bounce' && !event.bounceType)
      ctx.addIssue({ code: 'custom', path: ['bounceType'], message: 'required for a bounce: hard or soft' });
    if (event.type !== 'bounce' && event.bounceType)
      ctx.addIssue({ code: 'custom', path: ['bounceType'], message: 'only for a bounce' });
    if (!event.messageId && !event.email)
      ctx.addIssue({ code: 'custom', path: ['messageId'], message: 'give messageId, email or both' });
  });

export type EmailEvent = z.infer<typeof emailEvent>;

/** Body of `POST /webhooks/email/events`. */
export const emailEventsBody = z.object({ events: z.array(emailEvent).min(1).max(MAX_WEBHOOK_EVENTS) }).strict();

/** One letter status event from the print provider. */
export const printEvent = z
  .object({
    /** The provider's letter id (`LT…`), as returned when the letter was accepted. */
    letterId: z.string().trim().min(1).max(200),
    status: z.enum(['mailed', 'returned']),
    reason: z.string().trim().min(1).max(500).optional(),
    at: reportedAt,
  })
  .strict();

export type PrintEvent = z.infer<typeof printEvent>;

/** Body of `POST /webhooks/print/status`. */
export const printEventsBody = z.object({ events: z.array(printEvent).min(1).max(MAX_WEBHOOK_EVENTS) }).strict();

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
  channel: channel.optional(),
});

/** A zod schema as an inline OpenAPI 3.1 schema (the request's shape, before transforms). */
export function inlineSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _schema, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  return withoutLooseFormats(rest) as Record<string, unknown>;
}

/**
 * Drops `format: email` where the schema also has zod's `pattern`: the pattern is what the API checks, and JSON
 * Schema's email format is looser in some places and stricter in others, so a client following it would send
 * addresses the API refuses, and the reverse.
 */
export function withoutLooseFormats(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutLooseFormats);
  if (!value || typeof value !== 'object') return value;
  const entries = Object.entries(value).map(([key, inner]) => [key, withoutLooseFormats(inner)] as const);
  const object = Object.fromEntries(entries) as Record<string, unknown>;
  if (object.format === 'email' && typeof object.pattern === 'string') delete object.format;
  return object;
}

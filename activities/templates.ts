/**
 * Message templates of the built-in journeys. `{{ path.to.value }}` is replaced by the value at that
 * path in the context (consumer attributes, event data); missing values render as an empty string.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { Liquid } from 'liquidjs';

/** A template per channel: email has a subject. */
export interface Template {
  subject?: string;
  text: string;
}

const templates: Record<string, Template> = {
  'bill-reminder.email': {
    subject: 'Your bill {{ event.billId }} is ready',
    text:
      'Hello {{ consumer.firstName }},\n\n' +
      'your bill {{ event.billId }} for {{ event.amount }} {{ event.currency }} is due on {{ event.dueDate }}.\n' +
      'You can pay it at {{ event.payUrl }}.\n',
  },
  'bill-reminder.sms': {
    text: 'Reminder: bill {{ event.billId }} ({{ event.amount }} {{ event.currency }}) is due on {{ event.dueDate }}. {{ event.payUrl }}',
  },
};

/** What templates can refer to. */
export interface TemplateContext {
  consumer: Record<string, unknown>;
  event: Record<string, unknown>;
}

/** A rendered message. */
export interface RenderedMessage {
  subject?: string;
  text: string;
}

/** Renders template `id`; an unknown id is a permanent failure of the send. */
export function renderTemplate(id: string, context: TemplateContext): RenderedMessage {
  const template = templates[id];
  if (!template) throw ApplicationFailure.nonRetryable(`Unknown template ${id}`, 'UnknownTemplate');
  return {
    subject: template.subject === undefined ? undefined : interpolate(template.subject, context),
    text: interpolate(template.text, context),
  };
}

function interpolate(source: string, context: TemplateContext): string {
  return source.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_, path: string) => {
    let value: unknown = context;
    for (const part of path.split('.')) {
      value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
    }
    if (value === undefined || value === null) return '';
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    return JSON.stringify(value);
  });
}

// Strict about syntax, lenient about data: a missing value renders empty, never "undefined".
const liquid = new Liquid({ strictFilters: true, strictVariables: false, ownPropertyOnly: true });

/** Renders a journey step's Liquid template; a template that does not parse is a permanent failure. */
export function renderLiquid(template: Template, context: object): RenderedMessage {
  try {
    return {
      subject:
        template.subject === undefined ? undefined : (liquid.parseAndRenderSync(template.subject, context) as string),
      text: liquid.parseAndRenderSync(template.text, context) as string,
    };
  } catch (err) {
    throw ApplicationFailure.nonRetryable(`Template does not render: ${(err as Error).message}`, 'InvalidTemplate');
  }
}

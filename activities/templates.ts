/**
 * Message templates of the built-in journeys. `{{ path.to.value }}` is replaced by the value at that
 * path in the context (consumer attributes, event data); missing values render as an empty string.
 */
import { ApplicationFailure } from '@temporalio/activity';
import { Liquid } from 'liquidjs';
import type { MessageContent, MessageTemplate } from '../contract/journey-definition';
import { FailureType } from '../contract/failures';

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
  html?: string;
}

/** Renders template `id`; an unknown id is a permanent failure of the send. */
export function renderTemplate(id: string, context: TemplateContext): RenderedMessage {
  const template = templates[id];
  if (!template) throw ApplicationFailure.nonRetryable(`Unknown template ${id}`, FailureType.UnknownTemplate);
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
// In HTML every output is escaped, so a consumer attribute cannot inject markup.
const liquidHtml = new Liquid({
  strictFilters: true,
  strictVariables: false,
  ownPropertyOnly: true,
  outputEscape: 'escape',
});

/**
 * The content of `template` for `locale`: the exact tag (`es-MX`), else its language (`es`), else the
 * template's default content. Returns the locale actually used.
 */
export function localise(template: MessageTemplate, locale: string | undefined): MessageContent & { locale?: string } {
  const variants = template.locales ?? {};
  const language = locale?.split('-')[0];
  for (const tag of [locale, language]) {
    const content = tag ? variants[tag] : undefined;
    if (tag && content) return { ...content, locale: tag };
  }
  const { locales: _locales, ...base } = template;
  return base;
}

/** Renders a journey step's Liquid template; a template that does not parse is a permanent failure. */
export function renderLiquid(template: Template & { html?: string }, context: object): RenderedMessage {
  const render = (source: string | undefined, engine = liquid) =>
    source === undefined ? undefined : (engine.parseAndRenderSync(source, context) as string);
  try {
    return {
      subject: render(template.subject),
      text: render(template.text) ?? '',
      html: render(template.html, liquidHtml),
    };
  } catch (err) {
    throw ApplicationFailure.nonRetryable(
      `Template does not render: ${(err as Error).message}`,
      FailureType.InvalidTemplate,
    );
  }
}

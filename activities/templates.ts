/**
 * Message templates of the built-in journeys. `{{ path.to.value }}` is replaced by the value at that
 * path in the context (consumer attributes, event data); missing values render as an empty string.
 */
import { ApplicationFailure } from '@temporalio/activity';
import type { MessageContent, MessageTemplate } from '../contract/journey-definition';
import { FailureType } from '../contract/failures';
import { type TemplateSandbox, TemplateRenderError, type TemplateSource } from './template-sandbox';

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

/**
 * Renders a journey step's Liquid template in the template sandbox; a template that does not render (syntax,
 * limits, the sandbox's memory or deadline) fails the send permanently as `TemplateError`.
 */
export async function renderLiquid(
  sandbox: TemplateSandbox,
  template: Template & { html?: string },
  context: object,
): Promise<RenderedMessage> {
  const sources: Record<string, TemplateSource> = { text: { source: template.text } };
  if (template.subject !== undefined) sources.subject = { source: template.subject };
  if (template.html !== undefined) sources.html = { source: template.html, html: true };
  const rendered = await renderInSandbox(sandbox, sources, context);
  return { subject: rendered.subject, text: rendered.text ?? '', html: rendered.html };
}

/**
 * Renders every string of a webhook step's body (Liquid-templated JSON) over `context`; other values are
 * kept as they are.
 */
export async function renderJsonTemplate(
  sandbox: TemplateSandbox,
  body: Record<string, unknown>,
  context: object,
): Promise<Record<string, unknown>> {
  const sources: Record<string, TemplateSource> = {};
  const collect = (value: unknown): unknown => {
    if (typeof value === 'string') {
      const slot = String(Object.keys(sources).length);
      sources[slot] = { source: value };
      return { [SLOT]: slot };
    }
    if (Array.isArray(value)) return value.map(collect);
    if (value !== null && typeof value === 'object')
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, collect(item)]));
    return value;
  };
  const shape = collect(body);
  const rendered = await renderInSandbox(sandbox, sources, context);
  const fill = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(fill);
    if (value !== null && typeof value === 'object') {
      const slot = (value as Record<string, unknown>)[SLOT];
      if (typeof slot === 'string') return rendered[slot] ?? '';
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fill(item)]));
    }
    return value;
  };
  return fill(shape) as Record<string, unknown>;
}

/** Marks where a rendered string goes back into a templated JSON value. */
const SLOT = Symbol.for('journey-executor.template-slot') as unknown as string;

async function renderInSandbox(
  sandbox: TemplateSandbox,
  sources: Record<string, TemplateSource>,
  context: object,
): Promise<Record<string, string>> {
  try {
    return await sandbox.render(sources, context);
  } catch (err) {
    if (err instanceof TemplateRenderError) {
      throw ApplicationFailure.nonRetryable(`Template does not render: ${err.message}`, FailureType.TemplateError);
    }
    throw err;
  }
}

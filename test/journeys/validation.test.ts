import assert from 'node:assert/strict';
import fc from 'fast-check';
import ms from 'ms';
import type { FieldProblem } from '../../api/errors';
import { durationPattern, journeyDefinitionJsonSchema } from '../../journeys/schema';
import { formatProblems, MAX_NESTING, MAX_WEBHOOK_BODY, ROOT_PATH, validateJourney } from '../../journeys/validation';
import { parseAllowedHosts } from '../../runtime/network-policy';
import type { JourneyDefinition, Step } from '../../contract/journey-definition';
import { readPath } from '../../contract/conditions';
import { nextFields } from '../../contract/steps';
import { validJourneyArb } from '../support/journey-arbitraries';

/** Bill reminder: email, wait 3 days for the payment, else a reminder by sms. */
const billReminder = (): JourneyDefinition => ({
  id: 'bill-reminder',
  name: 'Bill reminder',
  topic: 'billing',
  trigger: { event: 'bill.issued', filter: { path: 'data.amount', op: 'gt', value: 0 } },
  reentry: { policy: 'always', key: 'data.billId' },
  goals: [],
  exits: [{ event: 'bill.cancelled', filter: { path: 'data.billId', op: 'exists' } }],
  maxLifetime: '30 days',
  start: 'send-bill',
  steps: [
    {
      id: 'send-bill',
      name: 'Send the bill',
      type: 'send',
      channels: ['email'],
      templates: {
        email: {
          subject: 'Your bill {{ trigger.data.billId }} is ready',
          text: 'Hello {{ consumer.attributes.firstName }}, your bill of {{ trigger.data.amount }} is due.',
        },
      },
      next: 'wait-payment',
    },
    {
      id: 'wait-payment',
      type: 'wait-for-event',
      match: { event: 'payment.received', filter: { path: 'data.billId', op: 'exists' } },
      timeout: '3 days',
      next: 'done',
      onTimeout: 'remind-sms',
    },
    {
      id: 'remind-sms',
      type: 'send',
      channels: ['sms'],
      templates: { sms: { text: 'Reminder: bill {{ trigger.data.billId }} is due. {{ trigger.data.payUrl }}' } },
      next: 'done',
    },
    { id: 'done', type: 'exit' },
  ],
});

/** Abandoned cart: wait for checkout; by its total, a VIP offer; without checkout, a random email/sms nudge. */
const abandonedCart = (): JourneyDefinition => ({
  id: 'abandoned-cart',
  name: 'Abandoned cart',
  topic: 'marketing',
  trigger: {
    event: 'cart.abandoned',
    consumerFilter: { not: { path: 'consumer.attributes.optedOut', op: 'eq', value: true } },
  },
  reentry: { policy: 'after-exit' },
  goals: [{ event: 'order.placed' }],
  exits: [{ event: 'cart.emptied' }],
  start: 'wait-checkout',
  steps: [
    {
      id: 'wait-checkout',
      type: 'wait-for-event',
      match: { event: 'checkout.started' },
      timeout: '1 hour',
      next: 'check-total',
      onTimeout: 'split',
    },
    {
      id: 'check-total',
      type: 'branch',
      branches: [
        {
          when: {
            all: [
              { path: 'events.wait-checkout.data.total', op: 'gte', value: 100 },
              { path: 'consumer.attributes.country', op: 'in', value: ['DE', 'FR'] },
            ],
          },
          next: 'vip-offer',
        },
      ],
      default: 'done',
    },
    {
      id: 'split',
      type: 'random-split',
      paths: [
        { weight: 50, next: 'email-nudge' },
        { weight: 50, next: 'sms-nudge' },
      ],
    },
    {
      id: 'email-nudge',
      type: 'send',
      channels: ['email'],
      templates: { email: { subject: 'You left something behind', text: 'Your cart is waiting.' } },
      next: 'wait-a-day',
    },
    {
      id: 'sms-nudge',
      type: 'send',
      channels: ['sms'],
      templates: { sms: { text: 'Your cart is waiting.' } },
      next: 'wait-a-day',
    },
    { id: 'wait-a-day', type: 'wait', duration: '1 day', next: 'wait-checkout' },
    {
      id: 'vip-offer',
      type: 'send',
      channels: ['email', 'sms'],
      templates: {
        email: { subject: 'A gift for you', text: '{% if consumer.attributes.vip %}Dear VIP, {% endif %}10% off.' },
        sms: { text: '10% off your cart.' },
      },
      next: 'tag',
    },
    { id: 'tag', type: 'update-profile', set: { cartOfferSent: true }, next: 'done' },
    { id: 'done', type: 'exit' },
  ],
});

/** A one-step journey plus `steps` appended after it (the first step continues to `first`). */
const withSteps = (first: string, steps: unknown[]): any => ({
  ...billReminder(),
  start: 'begin',
  steps: [{ id: 'begin', type: 'update-profile', set: {}, next: first }, ...steps, { id: 'done', type: 'exit' }],
});

const problemsOf = (input: unknown): FieldProblem[] => {
  const result = validateJourney(input);
  return result.ok ? [] : result.problems;
};
const pathsOf = (input: unknown) => problemsOf(input).map((problem) => problem.path);

function assertAccepted(input: unknown): void {
  const result = validateJourney(input);
  assert.ok(result.ok, result.ok ? '' : formatProblems(result.problems));
}

/** Asserts that `input` is rejected with exactly problems at `paths`, and returns them. */
function assertProblemsAt(input: unknown, paths: string[]): FieldProblem[] {
  const problems = problemsOf(input);
  assert.deepEqual(
    problems.map((problem) => problem.path),
    paths,
    formatProblems(problems),
  );
  return problems;
}

/** Sets a dotted path (`branches.0.next`) inside `target`. */
function setAt(target: any, path: string, value: unknown): void {
  const parts = path.split('.');
  const last = parts.pop()!;
  const parent = parts.reduce((node, part) => node[part], target);
  parent[last] = value;
}

const clone = <T>(value: T): T => structuredClone(value);

describe('validateJourney', () => {
  describe('realistic journeys', () => {
    it('accepts the bill reminder: email, wait 3 days for payment, else sms, exit', () => {
      const result = validateJourney(billReminder());
      assert.ok(result.ok);
      assert.deepEqual(result.definition, billReminder());
    });

    it('accepts the abandoned cart with a branch on events.wait-checkout.data.total and a random split', () => {
      assertAccepted(abandonedCart());
    });

    it('accepts a wait-until on weekdays at a time of day, and one before a date attribute', () => {
      assertAccepted(
        withSteps('morning', [
          { id: 'morning', type: 'wait-until', timeOfDay: '09:30', weekdays: [1, 2, 3, 4, 5], next: 'before' },
          {
            id: 'before',
            type: 'wait-until',
            at: { path: 'consumer.attributes.appointmentAt', offset: '-1 day' },
            next: 'done',
          },
        ]),
      );
    });

    it('accepts a webhook whose response a branch reads under webhooks.<step id>', () => {
      assertAccepted(
        withSteps('score', [
          {
            id: 'score',
            type: 'webhook',
            url: 'https://scoring.example.com/v1',
            method: 'POST',
            timeout: '10s',
            body: { id: '{{ consumer.id }}' },
            next: 'by-score',
          },
          {
            id: 'by-score',
            type: 'branch',
            branches: [{ when: { path: 'webhooks.score.value', op: 'gt', value: 0.5 }, next: 'done' }],
            default: 'done',
          },
        ]),
      );
    });
  });

  describe('schema', () => {
    it('rejects input that is not an object, at the root', () => {
      assertProblemsAt('journey', [ROOT_PATH]);
    });

    it('names each missing top-level field', () => {
      const definition: any = billReminder();
      delete definition.goals;
      delete definition.start;
      assertProblemsAt(definition, ['goals', 'start']);
    });

    it('names an unknown field by its own path', () => {
      const definition: any = billReminder();
      definition.steps[1].colour = 'blue';
      definition.owner = 'me';
      assertProblemsAt(definition, ['steps.1.colour', 'owner']);
    });

    it('rejects an unknown step type at steps.3.type', () => {
      const definition: any = billReminder();
      definition.steps[3].type = 'stop';
      assertProblemsAt(definition, ['steps.3.type']);
    });

    it('rejects an id with spaces at steps.0.id', () => {
      const definition: any = billReminder();
      definition.steps[0].id = 'send bill';
      assertProblemsAt(definition, ['steps.0.id']);
    });

    it('rejects a channel other than email, sms, voice and print at steps.0.channels.1', () => {
      const definition: any = billReminder();
      definition.steps[0].channels.push('fax');
      assertProblemsAt(definition, ['steps.0.channels.1']);
    });

    it("accepts channels: 'auto', and rejects any other string at steps.0.channels", () => {
      const auto: any = billReminder();
      auto.steps[0].channels = 'auto';
      assert.equal(validateJourney(auto).ok, true);
      const other: any = billReminder();
      other.steps[0].channels = 'automatic';
      assertProblemsAt(other, ['steps.0.channels']);
    });

    it('checks the templates of every locale and only email has HTML', () => {
      const definition: any = billReminder();
      definition.steps[0].templates.email.locales = { es: { text: 'Hola {{ x' } };
      definition.steps[0].templates.email.html = '<p>{{ consumer.attributes.firstName }}</p>';
      assertProblemsAt(definition, [
        'steps.0.templates.email.locales.es.subject',
        'steps.0.templates.email.locales.es.text',
      ]);
      const sms: any = billReminder();
      sms.steps.find((s: any) => s.channels?.includes('sms')).templates.sms.html = '<p>x</p>';
      assert.ok(validateJourney(sms).ok === false);
    });

    it('rejects a fallback on a single listed channel at steps.0.fallback', () => {
      const definition: any = billReminder();
      definition.steps[0].fallback = { deliveredWithin: '1 hour' };
      assertProblemsAt(definition, ['steps.0.fallback']);
    });

    it('rejects a channel listed twice at steps.0.channels', () => {
      const definition: any = billReminder();
      definition.steps[0].channels.push('email');
      assertProblemsAt(definition, ['steps.0.channels']);
    });

    it('accepts durations in the forms of the ms package', () => {
      for (const duration of ['3 days', '90 minutes', '10s', '1.5h', '.5d', '2 weeks', '1y', '500ms']) {
        const definition: any = billReminder();
        definition.steps[1].timeout = duration;
        assertAccepted(definition);
      }
    });

    it('rejects malformed, unitless, zero and negative durations at the field', () => {
      for (const duration of ['3 fortnights', '3', 'soon', '0 days', '-1 day', '3 Days', '']) {
        const definition: any = billReminder();
        definition.steps[1].timeout = duration;
        assertProblemsAt(definition, ['steps.1.timeout']);
      }
    });

    it('checks wait.duration, maxLifetime and webhook.timeout as durations too', () => {
      const definition = withSteps('pause', [
        { id: 'pause', type: 'wait', duration: 'a while', next: 'call' },
        { id: 'call', type: 'webhook', url: 'https://example.com', timeout: '10 parsecs', next: 'done' },
      ]);
      definition.maxLifetime = 'forever';
      assertProblemsAt(definition, ['maxLifetime', 'steps.1.duration', 'steps.2.timeout']);
    });

    it('accepts a negative wait-until offset but rejects a malformed one at steps.1.at.offset', () => {
      const until = (offset: string) =>
        withSteps('before', [
          { id: 'before', type: 'wait-until', at: { path: 'consumer.attributes.dueAt', offset }, next: 'done' },
        ]);
      assertAccepted(until('-1 day'));
      assertProblemsAt(until('-1 fortnight'), ['steps.1.at.offset']);
    });

    it('rejects a time of day outside 00:00-23:59 at steps.1.timeOfDay', () => {
      for (const timeOfDay of ['24:00', '9:30', '12:60', 'noon']) {
        assertProblemsAt(withSteps('at', [{ id: 'at', type: 'wait-until', timeOfDay, next: 'done' }]), [
          'steps.1.timeOfDay',
        ]);
      }
    });

    it('rejects weekdays outside 1..7 at their index, and repeated weekdays at steps.1.weekdays', () => {
      const until = (weekdays: unknown[]) =>
        withSteps('at', [{ id: 'at', type: 'wait-until', timeOfDay: '09:00', weekdays, next: 'done' }]);
      assertProblemsAt(until([1, 8, 0, 2.5]), ['steps.1.weekdays.1', 'steps.1.weekdays.2', 'steps.1.weekdays.3']);
      assertProblemsAt(until([1, 1]), ['steps.1.weekdays']);
    });

    it('rejects a random-split weight that is not positive at steps.1.paths.1.weight', () => {
      const split = (weight: unknown) =>
        withSteps('split', [
          {
            id: 'split',
            type: 'random-split',
            paths: [
              { weight: 1, next: 'done' },
              { weight, next: 'done' },
            ],
          },
        ]);
      for (const weight of [0, -1, '1']) assertProblemsAt(split(weight), ['steps.1.paths.1.weight']);
    });

    it('rejects a webhook url that is not http(s) at steps.1.url', () => {
      for (const url of ['ftp://example.com/x', 'javascript:alert(1)', 'not a url']) {
        assertProblemsAt(withSteps('call', [{ id: 'call', type: 'webhook', url, next: 'done' }]), ['steps.1.url']);
      }
    });

    it('rejects an event type that is not a dotted lower-case name at trigger.event', () => {
      const definition: any = billReminder();
      definition.trigger.event = 'BillIssued';
      assertProblemsAt(definition, ['trigger.event']);
    });

    it('rejects re-entry policy always without a key at reentry.key', () => {
      const definition: any = billReminder();
      definition.reentry = { policy: 'always' };
      assertProblemsAt(definition, ['reentry.key']);
    });

    it('locates a bad comparison deep in a condition, at trigger.filter.all.1.op', () => {
      const definition: any = billReminder();
      definition.trigger.filter = {
        all: [
          { path: 'data.a', op: 'eq', value: 1 },
          { path: 'data.b', op: 'like' },
        ],
      };
      assertProblemsAt(definition, ['trigger.filter.all.1.op']);
    });

    it('locates an unknown field in a condition, at trigger.filter.not.colour', () => {
      const definition: any = billReminder();
      definition.trigger.filter = { not: { path: 'data.a', op: 'exists', colour: 'red' } };
      assertProblemsAt(definition, ['trigger.filter.not.colour']);
    });

    it('rejects nesting deeper than MAX_NESTING instead of overflowing the stack', () => {
      let filter: any = { path: 'data.a', op: 'exists' };
      for (let i = 0; i < 5000; i++) filter = { not: filter };
      const definition: any = billReminder();
      definition.trigger.filter = filter;
      const [problem] = problemsOf(definition);
      assert.equal(problem!.path, ['trigger', 'filter', ...Array<string>(MAX_NESTING - 2).fill('not')].join('.'));
      assert.equal(problem!.message, `nested deeper than ${MAX_NESTING} levels`);
    });

    it('reports a condition that matches no form at the condition itself', () => {
      const definition: any = billReminder();
      definition.trigger.filter = { all: [{}] };
      const [problem] = assertProblemsAt(definition, ['trigger.filter.all.0']);
      assert.match(
        problem!.message,
        /\{all: \[\.\.\.\]\}, \{any: \[\.\.\.\]\}, \{not: \{\.\.\.\}\} or \{path, op, value\}/,
      );
    });
  });

  describe('step graph', () => {
    it('rejects a start that names no step, at start', () => {
      const definition = billReminder();
      definition.start = 'nowhere';
      const [problem] = assertProblemsAt(definition, ['start']);
      assert.match(problem!.message, /nowhere/);
    });

    it('rejects a repeated step id at steps.2.id', () => {
      const definition = billReminder();
      definition.steps[2]!.id = 'send-bill';
      const problems = problemsOf(definition);
      assert.ok(
        problems.some((p) => p.path === 'steps.2.id' && /steps\.0/.test(p.message)),
        formatProblems(problems),
      );
    });

    it('rejects a next id that names no step, at steps.2.next', () => {
      const definition: any = billReminder();
      definition.steps[2].next = 'nowhere';
      assertProblemsAt(definition, ['steps.2.next']);
    });

    it('rejects an onTimeout that names no step, at steps.1.onTimeout (and the step it orphans)', () => {
      const definition: any = billReminder();
      definition.steps[1].onTimeout = 'nowhere';
      assertProblemsAt(definition, ['steps.1.onTimeout', 'steps.2']);
    });

    it('rejects unknown ids in branches, default and random-split paths at their exact field', () => {
      const definition: any = abandonedCart();
      definition.steps[1].branches[0].next = 'x1';
      definition.steps[1].default = 'x2';
      definition.steps[2].paths[1].next = 'x3';
      const paths = pathsOf(definition);
      for (const path of ['steps.1.branches.0.next', 'steps.1.default', 'steps.2.paths.1.next']) {
        assert.ok(paths.includes(path), `${path} not in ${paths.join(', ')}`);
      }
    });

    it('rejects a step that cannot be reached from start, at steps.4', () => {
      const definition = billReminder();
      definition.steps.push({ id: 'orphan', type: 'exit' });
      const [problem] = assertProblemsAt(definition, ['steps.4']);
      assert.equal(problem!.message, 'unreachable from start');
    });

    it('rejects a loop of steps that never wait, at one of its steps, naming the loop', () => {
      const definition = withSteps('a', [
        { id: 'a', type: 'update-profile', set: {}, next: 'b' },
        {
          id: 'b',
          type: 'branch',
          branches: [{ when: { path: 'consumer.attributes.x', op: 'exists' }, next: 'done' }],
          default: 'a',
        },
      ]);
      const [problem] = assertProblemsAt(definition, ['steps.1']);
      assert.equal(problem!.message, 'loops without a waiting step: a -> b -> a');
    });

    it('rejects a non-waiting step that continues to itself', () => {
      const definition = withSteps('self', [
        { id: 'self', type: 'random-split', paths: [{ weight: 1, next: 'self' }] },
      ]);
      const problems = assertProblemsAt(definition, ['steps.2', 'steps.1']);
      assert.equal(problems[0]!.message, 'unreachable from start');
      assert.equal(problems[1]!.message, 'loops without a waiting step: self -> self');
    });

    it('accepts a loop that passes through a waiting step', () => {
      assertAccepted(
        withSteps('a', [
          { id: 'a', type: 'update-profile', set: {}, next: 'pause' },
          { id: 'pause', type: 'wait', duration: '1 day', next: 'b' },
          {
            id: 'b',
            type: 'branch',
            branches: [{ when: { path: 'consumer.attributes.x', op: 'exists' }, next: 'done' }],
            default: 'a',
          },
        ]),
      );
    });
  });

  describe('templates', () => {
    it('rejects a send step without a template for a listed channel, at steps.0.templates.sms', () => {
      const definition = billReminder();
      definition.steps[0] = { ...(definition.steps[0] as Extract<Step, { type: 'send' }>), channels: ['email', 'sms'] };
      assertProblemsAt(definition, ['steps.0.templates.sms']);
    });

    it('rejects a template for a channel the step does not send on, at steps.2.templates.email', () => {
      const definition: any = billReminder();
      definition.steps[2].templates.email = { subject: 'Hi', text: 'Hi' };
      assertProblemsAt(definition, ['steps.2.templates.email']);
    });

    it('rejects Liquid syntax errors at the text and the subject', () => {
      const definition: any = billReminder();
      definition.steps[0].templates.email = { subject: 'Bill {{ trigger.data.billId', text: '{% if x %}unclosed' };
      const problems = assertProblemsAt(definition, [
        'steps.0.templates.email.subject',
        'steps.0.templates.email.text',
      ]);
      assert.match(problems[0]!.message, /^invalid Liquid: .*not closed/);
    });

    it('rejects an email without a subject and an sms with one', () => {
      const definition: any = billReminder();
      delete definition.steps[0].templates.email.subject;
      definition.steps[2].templates.sms.subject = 'Reminder';
      assertProblemsAt(definition, ['steps.0.templates.email.subject', 'steps.2.templates.sms.subject']);
    });

    it('rejects Liquid syntax errors in a webhook body at the string', () => {
      const definition = withSteps('call', [
        {
          id: 'call',
          type: 'webhook',
          url: 'https://example.com',
          body: { a: { b: ['ok', '{{ oops'] } },
          next: 'done',
        },
      ]);
      assertProblemsAt(definition, ['steps.1.body.a.b.1']);
    });

    it('rejects tags that read files (include, render, layout, also inside liquid) at the field', () => {
      const definition: any = billReminder();
      definition.steps[0].templates.email = {
        subject: "{% include 'package.json' %}",
        text: "{% render '.data/postgres/pg_hba.conf' %}",
        html: "{% liquid\nlayout 'x'\n%}",
      };
      const problems = assertProblemsAt(definition, [
        'steps.0.templates.email.subject',
        'steps.0.templates.email.text',
        'steps.0.templates.email.html',
      ]);
      for (const problem of problems) assert.match(problem.message, /not allowed: templates cannot read files/);
      const webhook = withSteps('call', [
        { id: 'call', type: 'webhook', url: 'https://example.com', body: { leak: "{% include 'x' %}" }, next: 'done' },
      ]);
      assertProblemsAt(webhook, ['steps.1.body.leak']);
    });
  });

  describe('webhook targets (outbound guard)', () => {
    const webhook = (url: string, body?: unknown) =>
      withSteps('call', [{ id: 'call', type: 'webhook', url, ...(body ? { body } : {}), next: 'done' }]);

    it('rejects a literal internal address in any spelling, localhost and plain http, at steps.1.url', () => {
      for (const url of [
        'https://127.0.0.1:8233/api/v1/namespaces/default/workflows',
        'https://[::ffff:127.0.0.1]/',
        'https://169.254.169.254/latest/meta-data/',
        'https://10.0.0.8:5432/',
        'https://localhost:7233/',
        'http://hooks.example.com/score',
      ]) {
        assertProblemsAt(webhook(url), ['steps.1.url']);
      }
    });

    it('accepts an internal target listed in WEBHOOK_ALLOWED_HOSTS, over plain http too', () => {
      const allowed = { webhookAllowedHosts: parseAllowedHosts('127.0.0.1:9000,hooks.internal', []) };
      assert.ok(validateJourney(webhook('http://127.0.0.1:9000/score'), allowed).ok);
      assert.ok(validateJourney(webhook('http://hooks.internal/score'), allowed).ok);
      assert.equal(validateJourney(webhook('http://127.0.0.1:9001/score'), allowed).ok, false);
    });

    it('rejects a webhook body longer than MAX_WEBHOOK_BODY as JSON', () => {
      assertProblemsAt(webhook('https://hooks.example.com', { blob: 'x'.repeat(MAX_WEBHOOK_BODY) }), ['steps.1.body']);
    });
  });

  describe('condition paths and values', () => {
    it('requires branch paths to start with consumer., trigger., events., webhooks. or journey.', () => {
      const definition: any = abandonedCart();
      definition.steps[1].branches[0].when.all[1].path = 'attributes.country';
      const [problem] = assertProblemsAt(definition, ['steps.1.branches.0.when.all.1.path']);
      assert.equal(problem!.message, 'must start with consumer., trigger., events., webhooks., journey.');
    });

    it('rejects events.<id> naming a step that is not a wait-for-event step', () => {
      const definition: any = abandonedCart();
      definition.steps[1].branches[0].when.all[0].path = 'events.split.data.total';
      const [problem] = assertProblemsAt(definition, ['steps.1.branches.0.when.all.0.path']);
      assert.equal(problem!.message, 'events.split names no wait-for-event step');
    });

    it('rejects webhooks.<id> naming no webhook step', () => {
      const definition: any = abandonedCart();
      definition.steps[1].branches[0].when.all[0].path = 'webhooks.wait-checkout.score';
      assertProblemsAt(definition, ['steps.1.branches.0.when.all.0.path']);
    });

    it('requires event filters to read the event, at trigger.filter.all.1.path', () => {
      const definition = billReminder();
      definition.trigger.filter = {
        all: [
          { path: 'data.amount', op: 'gt', value: 0 },
          { path: 'consumer.attributes.tier', op: 'eq', value: 'gold' },
        ],
      };
      assertProblemsAt(definition, ['trigger.filter.all.1.path']);
    });

    it('applies the data. rule to goal, exit and wait-for-event filters', () => {
      const definition = billReminder();
      definition.goals = [{ event: 'payment.received', filter: { path: 'trigger.data.billId', op: 'exists' } }];
      definition.exits = [{ event: 'bill.cancelled', filter: { any: [{ path: 'amount', op: 'exists' }] } }];
      (definition.steps[1] as any).match.filter = { not: { path: 'events.wait-payment.data.x', op: 'exists' } };
      assertProblemsAt(definition, [
        'goals.0.filter.path',
        'exits.0.filter.any.0.path',
        'steps.1.match.filter.not.path',
      ]);
    });

    it('rejects events. paths in the consumer filter: nothing has been received when a run starts', () => {
      const definition = billReminder();
      definition.trigger.consumerFilter = { path: 'events.wait-payment.data.x', op: 'exists' };
      assertProblemsAt(definition, ['trigger.consumerFilter.path']);
    });

    it('rejects exists with a value, in without an array and eq without a value, at .value', () => {
      const definition = billReminder();
      definition.trigger.filter = {
        all: [
          { path: 'data.a', op: 'exists', value: true },
          { path: 'data.b', op: 'in', value: 'DE' },
          { path: 'data.c', op: 'eq' },
          { path: 'data.d', op: 'gt', value: [1] },
          { path: 'data.e', op: 'in', value: ['DE'] },
        ],
      };
      const problems = assertProblemsAt(definition, [
        'trigger.filter.all.0.value',
        'trigger.filter.all.1.value',
        'trigger.filter.all.2.value',
        'trigger.filter.all.3.value',
      ]);
      assert.deepEqual(
        problems.map((p) => p.message),
        ['exists takes no value', 'in needs an array value', 'eq needs a value', 'gt needs a number or a string'],
      );
    });

    it('requires the wait-until date path to be run data, at steps.1.at.path', () => {
      const definition = withSteps('at', [{ id: 'at', type: 'wait-until', at: { path: 'data.dueAt' }, next: 'done' }]);
      assertProblemsAt(definition, ['steps.1.at.path']);
    });

    it('rejects a wait-until with neither timeOfDay nor at, at steps.1', () => {
      assertProblemsAt(withSteps('at', [{ id: 'at', type: 'wait-until', weekdays: [1], next: 'done' }]), ['steps.1']);
    });
  });

  describe('journey rules', () => {
    it('requires the key of re-entry policy always to be a data. path, at reentry.key', () => {
      const definition = billReminder();
      definition.reentry = { policy: 'always', key: 'billId' };
      assertProblemsAt(definition, ['reentry.key']);
    });

    it('rejects an exit event that is also a goal event, at exits.0.event', () => {
      const definition = billReminder();
      definition.goals = [{ event: 'bill.cancelled' }];
      assertProblemsAt(definition, ['exits.0.event']);
    });

    it('accepts a holdout of 0 to 50 % with two decimals at most, and needs a goal for it', () => {
      for (const percent of [0, 0.01, 10, 33.33, 50]) {
        const definition = abandonedCart();
        definition.holdout = { percent };
        assert.equal(validateJourney(definition).ok, true, `${percent} %`);
      }
      for (const percent of [-1, 50.01, 0.001, 12.345]) {
        const definition: any = abandonedCart();
        definition.holdout = { percent };
        assertProblemsAt(definition, ['holdout.percent']);
      }
      const unknown: any = abandonedCart();
      unknown.holdout = { percent: 10, seed: 3 };
      assertProblemsAt(unknown, ['holdout.seed']);
      const noGoal = billReminder();
      noGoal.holdout = { percent: 10 };
      assertProblemsAt(noGoal, ['holdout']);
    });

    it('reports every problem, not just the first', () => {
      const definition: any = abandonedCart();
      definition.start = 'nope';
      definition.steps[0].next = 'nowhere';
      delete definition.steps[6].templates.sms;
      definition.steps[1].branches[0].when.all[0].path = 'total';
      definition.exits = [{ event: 'order.placed' }];
      assertProblemsAt(definition, [
        'start',
        'steps.0.next',
        'steps.6.templates.sms',
        'steps.1.branches.0.when.all.0.path',
        'exits.0.event',
      ]);
    });
  });

  describe('formatProblems', () => {
    it('puts one problem per line, path first', () => {
      assert.equal(
        formatProblems([
          { path: 'start', message: 'names no step: "x"' },
          { path: 'steps.1', message: 'unreachable from start' },
        ]),
        'start: names no step: "x"\nsteps.1: unreachable from start',
      );
    });
  });

  describe('properties', () => {
    const runs = { numRuns: 100 };

    /** The next fields of every step, with the step's index. */
    const nextFieldsOf = (definition: JourneyDefinition) =>
      definition.steps.flatMap((step, i) => nextFields(step).map((field) => ({ ...field, i })));

    it('accepts every generated valid journey', () => {
      fc.assert(
        fc.property(validJourneyArb, (definition) => {
          const result = validateJourney(definition);
          assert.ok(result.ok, result.ok ? '' : formatProblems(result.problems));
          assert.deepEqual(result.definition, definition);
        }),
        runs,
      );
    });

    it('names, in every next link of the step table, the field that holds that id', () => {
      fc.assert(
        fc.property(validJourneyArb, (definition) => {
          for (const step of definition.steps) {
            for (const link of nextFields(step)) assert.equal(readPath(step, link.field), link.id, link.field);
          }
        }),
        runs,
      );
    });

    it('rejects a next pointed at a missing id, at that exact field', () => {
      const arb = validJourneyArb
        .filter((definition) => nextFieldsOf(definition).length > 0)
        .chain((definition) => fc.tuple(fc.constant(definition), fc.constantFrom(...nextFieldsOf(definition))));
      fc.assert(
        fc.property(arb, ([valid, { i, field }]) => {
          const definition = clone(valid);
          setAt(definition.steps[i], field, 'no-such-step');
          const problems = problemsOf(definition);
          assert.ok(
            problems.some((p) => p.path === `steps.${i}.${field}` && p.message === 'names no step: "no-such-step"'),
            formatProblems(problems),
          );
        }),
        runs,
      );
    });

    it('rejects an added step that nothing continues to, as unreachable', () => {
      fc.assert(
        fc.property(validJourneyArb, fc.nat(), (valid, seed) => {
          const definition = clone(valid);
          const at = seed % (definition.steps.length + 1);
          definition.steps.splice(at, 0, { id: 'orphan', type: 'exit' });
          assertProblemsAt(definition, [`steps.${at}`]);
        }),
        runs,
      );
    });

    it('rejects a loop of non-waiting steps spliced into a journey, naming the loop', () => {
      const arb = validJourneyArb
        .filter((definition) => nextFieldsOf(definition).length > 0)
        .chain((definition) => fc.tuple(fc.constant(definition), fc.constantFrom(...nextFieldsOf(definition))));
      fc.assert(
        fc.property(arb, ([valid, { i, field }]) => {
          const definition = clone(valid);
          setAt(definition.steps[i], field, 'loop-a');
          definition.steps.push(
            { id: 'loop-a', type: 'update-profile', set: {}, next: 'loop-b' },
            { id: 'loop-b', type: 'random-split', paths: [{ weight: 1, next: 'loop-a' }] },
          );
          const n = definition.steps.length;
          const problems = problemsOf(definition);
          assert.ok(
            problems.some(
              (p) =>
                [`steps.${n - 2}`, `steps.${n - 1}`].includes(p.path) &&
                /loop-a -> loop-b -> loop-a|loop-b -> loop-a -> loop-b/.test(p.message),
            ),
            formatProblems(problems),
          );
        }),
        runs,
      );
    });

    it('rejects a send step missing the template of a listed channel, at steps.<i>.templates.<channel>', () => {
      const sends = (definition: JourneyDefinition) =>
        definition.steps.flatMap((step, i) =>
          step.type === 'send' && step.channels !== 'auto' ? step.channels.map((channel) => ({ i, channel })) : [],
        );
      const arb = validJourneyArb
        .filter((definition) => sends(definition).length > 0)
        .chain((definition) => fc.tuple(fc.constant(definition), fc.constantFrom(...sends(definition))));
      fc.assert(
        fc.property(arb, ([valid, { i, channel }]) => {
          const definition = clone(valid);
          delete (definition.steps[i] as Extract<Step, { type: 'send' }>).templates[channel];
          assertProblemsAt(definition, [`steps.${i}.templates.${channel}`]);
        }),
        runs,
      );
    });

    it("rejects an unknown channel like 'fax' in a send step, at its index in channels", () => {
      const arb = validJourneyArb
        .filter((definition) => definition.steps.some((step) => step.type === 'send'))
        .chain((definition) =>
          fc.tuple(
            fc.constant(definition),
            fc.constantFrom(...definition.steps.flatMap((step, i) => (step.type === 'send' ? [i] : []))),
          ),
        );
      fc.assert(
        fc.property(arb, ([valid, i]) => {
          const definition: any = clone(valid);
          const channels: string[] = definition.steps[i].channels;
          channels.push('fax');
          assertProblemsAt(definition, [`steps.${i}.channels.${channels.length - 1}`]);
        }),
        runs,
      );
    });

    it('never throws on arbitrary JSON, and names a path and a message for each problem', () => {
      fc.assert(
        fc.property(fc.jsonValue(), (input) => {
          const problems = problemsOf(input);
          assert.ok(problems.length > 0);
          for (const problem of problems) assert.ok(problem.path && problem.message);
        }),
        { numRuns: 200 },
      );
    });

    it('accepts only durations that Temporal can parse', () => {
      fc.assert(
        fc.property(fc.stringMatching(durationPattern, { size: 'small' }), (duration) => {
          fc.pre(duration.length <= 100);
          assert.ok(Number.isFinite(ms(duration)), duration);
        }),
        { numRuns: 200 },
      );
    });
  });
});

describe('journeyDefinitionJsonSchema', () => {
  it('is a JSON Schema object with the required top-level properties', () => {
    const schema = journeyDefinitionJsonSchema as Record<string, any>;
    assert.equal(schema.type, 'object');
    assert.deepEqual(schema.required, [
      'id',
      'name',
      'topic',
      'trigger',
      'reentry',
      'goals',
      'exits',
      'start',
      'steps',
    ]);
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(Object.keys(schema.properties).sort(), [
      'channels',
      'exits',
      'goals',
      'holdout',
      'id',
      'maxLifetime',
      'name',
      'reentry',
      'start',
      'steps',
      'topic',
      'trigger',
    ]);
  });

  it('defines the recursive Condition once, by reference', () => {
    const schema = journeyDefinitionJsonSchema as Record<string, any>;
    assert.ok(schema.$defs.Condition);
    assert.equal(schema.properties.trigger.properties.filter.$ref, '#/$defs/Condition');
    assert.doesNotThrow(() => JSON.stringify(schema));
  });
});

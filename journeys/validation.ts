/**
 * Validation of journey definitions on create and update: the schema first, then the checks that need the
 * whole definition (step references, reachability, loops, templates, condition paths). Pure, no I/O; every
 * problem is reported, each at the dotted path of the field at fault (`steps.3.next`).
 */
import type { z } from 'zod';
import type { Condition, JourneyDefinition, MessageContent, Step } from '../contract/journey-definition';
import { isWaitingStep, nextFields, nextStepIds } from '../contract/steps';
import { channels } from '../contract/channels';
import { createLiquid } from '../activities/liquid';
import { type AllowedHost, urlProblem } from '../runtime/network-policy';
import { journeyDefinitionSchema } from './schema';

/** One problem with a definition, at the dotted path of the field at fault (`steps.3.next`). */
export interface FieldProblem {
  path: string;
  message: string;
}

/** The outcome of {@link validateJourney}. */
export type JourneyValidation = { ok: true; definition: JourneyDefinition } | { ok: false; problems: FieldProblem[] };

/** Path given to a problem with the definition as a whole (e.g. not an object). */
export const ROOT_PATH = '(definition)';

/** Deepest nesting accepted: far beyond any real journey, well within the stack the recursive checks need. */
export const MAX_NESTING = 64;

/** Longest webhook body accepted, as JSON text. */
export const MAX_WEBHOOK_BODY = 32_768;

/** What validation needs to know of the deployment. */
export interface ValidationOptions {
  /** WEBHOOK_ALLOWED_HOSTS: webhook steps may name these even when internal, and over plain http. */
  webhookAllowedHosts?: readonly AllowedHost[];
}

/** Validates `input` as a journey definition, reporting every problem found. */
export function validateJourney(input: unknown, options: ValidationOptions = {}): JourneyValidation {
  const deep = tooDeepAt(input);
  if (deep !== undefined) {
    return { ok: false, problems: [{ path: deep, message: `nested deeper than ${MAX_NESTING} levels` }] };
  }
  const parsed = journeyDefinitionSchema.safeParse(input);
  if (!parsed.success) return { ok: false, problems: problemsFromZod(parsed.error.issues) };
  const definition = parsed.data;
  const graph = buildGraph(definition.steps);
  const problems = checks.flatMap((check) => check(definition, graph, options));
  return problems.length === 0 ? { ok: true, definition } : { ok: false, problems };
}

/** One line per problem: `steps.3.next: names no step: "x"`. */
export function formatProblems(problems: readonly FieldProblem[]): string {
  return problems.map((problem) => `${problem.path}: ${problem.message}`).join('\n');
}

/** The path of the first value nested deeper than {@link MAX_NESTING}, found without recursion. */
function tooDeepAt(input: unknown): string | undefined {
  const stack: { value: unknown; path: string[] }[] = [{ value: input, path: [] }];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { value, path } = item;
    if (value === null || typeof value !== 'object') continue;
    if (path.length >= MAX_NESTING) return pathOf(path);
    for (const [key, child] of Object.entries(value)) stack.push({ value: child, path: [...path, key] });
  }
  return undefined;
}

// --- Schema issues ------------------------------------------------------------------------------------

type Issue = z.core.$ZodIssue;

const pathOf = (path: readonly PropertyKey[]) => path.map(String).join('.') || ROOT_PATH;

/** Maps zod issues to problems like `InputError.fromZod`, and looks inside failed unions when it can. */
function problemsFromZod(issues: readonly Issue[], prefix: readonly PropertyKey[] = []): FieldProblem[] {
  return issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: pathOf([...path, key]), message: 'unknown field' }));
    }
    const option = issue.code === 'invalid_union' ? fittingOption(issue.errors) : undefined;
    return option ? problemsFromZod(option, path) : [{ path: pathOf(path), message: issue.message }];
  });
}

/**
 * The issues of the one union option whose shape fits the value (no unknown key, right type), if exactly one
 * does: `{all: [{path, op: 'bad'}]}` is then reported at `all.0.op`, not as "matches no option".
 */
function fittingOption(options: Issue[][]): Issue[] | undefined {
  const fitting = options.filter(
    (issues) =>
      !issues.some(
        (issue) =>
          issue.path.length === 0 && ['unrecognized_keys', 'invalid_type', 'invalid_value'].includes(issue.code),
      ),
  );
  return fitting.length === 1 ? fitting[0] : undefined;
}

// --- Graph --------------------------------------------------------------------------------------------

interface Graph {
  /** Index of the first step with each id. */
  index: Map<string, number>;
  /** Per step, the indexes of the steps it may continue to (ids that name no step left out). */
  edges: number[][];
}

function buildGraph(steps: readonly Step[]): Graph {
  const index = new Map<string, number>();
  steps.forEach((step, i) => {
    if (!index.has(step.id)) index.set(step.id, i);
  });
  const edges = steps.map((step) => nextStepIds(step).flatMap((id) => index.get(id) ?? []));
  return { index, edges };
}

type Check = (definition: JourneyDefinition, graph: Graph, options: ValidationOptions) => FieldProblem[];

const checkStart: Check = (definition, { index }) =>
  index.has(definition.start) ? [] : [{ path: 'start', message: `names no step: "${definition.start}"` }];

const checkUniqueIds: Check = ({ steps }, { index }) =>
  steps.flatMap((step, i) => {
    const first = index.get(step.id);
    return first === i ? [] : [{ path: `steps.${i}.id`, message: `repeats the id of steps.${first}: "${step.id}"` }];
  });

const checkNextIds: Check = ({ steps }, { index }) =>
  steps.flatMap((step, i) =>
    nextFields(step)
      .filter(({ id }) => !index.has(id))
      .map(({ field, id }) => ({ path: `steps.${i}.${field}`, message: `names no step: "${id}"` })),
  );

const checkReachable: Check = ({ start, steps }, { index, edges }) => {
  const first = index.get(start);
  if (first === undefined) return []; // reported by checkStart; everything would be unreachable
  const reached = new Set([first]);
  const queue = [first];
  for (let node = queue.shift(); node !== undefined; node = queue.shift()) {
    for (const target of edges[node] ?? []) {
      if (reached.has(target)) continue;
      reached.add(target);
      queue.push(target);
    }
  }
  return steps.flatMap((step, i) =>
    reached.has(i) || index.get(step.id) !== i ? [] : [{ path: `steps.${i}`, message: 'unreachable from start' }],
  );
};

/** A loop of steps that let no time pass would spin forever inside one workflow task. */
const checkLoops: Check = ({ steps }, { edges }) =>
  spinningCycles(steps, edges).map((cycle) => ({
    path: `steps.${cycle[0]}`,
    message: `loops without a waiting step: ${[...cycle, cycle[0]!].map((i) => steps[i]!.id).join(' -> ')}`,
  }));

/** Cycles made only of non-waiting steps: at least one per such loop, found by an iterative depth-first search. */
function spinningCycles(steps: readonly Step[], edges: number[][]): number[][] {
  const spins = (i: number) => !isWaitingStep(steps[i]!);
  const state = steps.map((): 'new' | 'open' | 'done' => 'new');
  const cycles: number[][] = [];
  steps.forEach((_, root) => {
    if (!spins(root) || state[root] !== 'new') return;
    state[root] = 'open';
    const stack = [{ node: root, edge: 0 }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const target = edges[top.node]![top.edge++];
      if (target === undefined) {
        state[top.node] = 'done';
        stack.pop();
      } else if (spins(target) && state[target] === 'open') {
        cycles.push(stack.slice(stack.findIndex((frame) => frame.node === target)).map((frame) => frame.node));
      } else if (spins(target) && state[target] === 'new') {
        state[target] = 'open';
        stack.push({ node: target, edge: 0 });
      }
    }
  });
  return cycles;
}

// --- Steps --------------------------------------------------------------------------------------------

const liquid = createLiquid();

/** The Liquid syntax error of `source`, if any. Parsing only: nothing is rendered. */
function liquidError(source: string): string | undefined {
  try {
    liquid.parse(source);
    return undefined;
  } catch (err) {
    return `invalid Liquid: ${(err as Error).message}`;
  }
}

const checkTemplates: Check = ({ steps }) =>
  steps.flatMap((step, i) => (step.type === 'send' ? sendStepProblems(step, `steps.${i}`) : []));

function sendStepProblems(step: Extract<Step, { type: 'send' }>, at: string): FieldProblem[] {
  const problems: FieldProblem[] = [];
  // With `auto`, any channel may be chosen: the templates present are the channels the step can use.
  const auto = step.channels === 'auto';
  if (auto && Object.keys(step.templates).length === 0) {
    problems.push({ path: `${at}.templates`, message: 'an auto send step needs a template for at least one channel' });
  }
  for (const channel of channels) {
    const template = step.templates[channel];
    const path = `${at}.templates.${channel}`;
    const listed = auto || step.channels.includes(channel);
    if (!template) {
      if (listed && !auto) problems.push({ path, message: `missing: the step sends on ${channel}` });
      continue;
    }
    if (!listed) problems.push({ path, message: `not used: ${channel} is not in channels` });
    const variants: [string, MessageContent][] = [
      [path, template],
      ...Object.entries(template.locales ?? {}).map(([tag, content]): [string, MessageContent] => [
        `${path}.locales.${tag}`,
        content,
      ]),
    ];
    for (const [variantPath, content] of variants) {
      if (channel === 'email' && content.subject === undefined) {
        problems.push({ path: `${variantPath}.subject`, message: 'an email needs a subject' });
      }
      if (channel !== 'email' && content.subject !== undefined && channel !== 'print') {
        problems.push({
          path: `${variantPath}.subject`,
          message: `${channel === 'sms' ? 'an sms' : 'a call'} has no subject`,
        });
      }
      if (channel !== 'email' && content.html !== undefined) {
        problems.push({ path: `${variantPath}.html`, message: 'only email has an HTML part' });
      }
      for (const field of ['subject', 'text', 'html'] as const) {
        const source = content[field];
        const error = source === undefined ? undefined : liquidError(source);
        if (error) problems.push({ path: `${variantPath}.${field}`, message: error });
      }
    }
  }
  if (step.fallback && !auto && step.channels.length < 2) {
    problems.push({ path: `${at}.fallback`, message: 'a fallback needs at least two channels (or channels: auto)' });
  }
  return problems;
}

/** Webhook bodies are Liquid-templated JSON: every string in them must parse, and the whole stays small. */
const checkWebhookBodies: Check = ({ steps }) =>
  steps.flatMap((step, i) => {
    if (step.type !== 'webhook' || !step.body) return [];
    const at = `steps.${i}.body`;
    if (JSON.stringify(step.body).length > MAX_WEBHOOK_BODY)
      return [{ path: at, message: `longer than ${MAX_WEBHOOK_BODY} characters as JSON` }];
    return templatedStrings(step.body, at);
  });

/** Webhook URLs: https to a public host, or a host the operator allowed (WEBHOOK_ALLOWED_HOSTS). */
const checkWebhookUrls: Check = ({ steps }, _graph, { webhookAllowedHosts = [] }) =>
  steps.flatMap((step, i) => {
    const problem = step.type === 'webhook' ? urlProblem(step.url, webhookAllowedHosts) : undefined;
    return problem ? [{ path: `steps.${i}.url`, message: problem }] : [];
  });

function templatedStrings(value: unknown, at: string): FieldProblem[] {
  if (typeof value === 'string') {
    const error = liquidError(value);
    return error ? [{ path: at, message: error }] : [];
  }
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, item]) => templatedStrings(item, `${at}.${key}`));
}

const checkWaitUntil: Check = ({ steps }) =>
  steps.flatMap((step, i) =>
    step.type === 'wait-until' && step.timeOfDay === undefined && step.at === undefined
      ? [{ path: `steps.${i}`, message: 'needs timeOfDay or at: nothing to wait until' }]
      : [],
  );

// --- Conditions and data paths ------------------------------------------------------------------------

/** The roots a path may start with where it is read. */
type Scope = readonly string[];
/** Event filters and the re-entry key read the event itself. */
const eventScope: Scope = ['data'];
/** The consumer filter runs before the run exists: no events or webhook responses yet. */
const startScope: Scope = ['consumer', 'trigger', 'journey'];
/** Branches and dates read the run's data. */
const runScope: Scope = ['consumer', 'trigger', 'events', 'webhooks', 'journey'];

/** Roots whose second segment names a step, and the type that step must have. */
const stepRoots: Record<string, Step['type']> = { events: 'wait-for-event', webhooks: 'webhook' };

interface PathSite {
  at: string;
  path: string;
  scope: Scope;
}

interface ConditionSite {
  at: string;
  condition: Condition;
  scope: Scope;
}

type Comparison = Extract<Condition, { path: string }>;

function conditionSites({ trigger, goals, exits, steps }: JourneyDefinition): ConditionSite[] {
  const sites: ConditionSite[] = [];
  const add = (condition: Condition | undefined, at: string, scope: Scope) => {
    if (condition) sites.push({ condition, at, scope });
  };
  add(trigger.filter, 'trigger.filter', eventScope);
  add(trigger.consumerFilter, 'trigger.consumerFilter', startScope);
  goals.forEach((goal, i) => add(goal.filter, `goals.${i}.filter`, eventScope));
  exits.forEach((exit, i) => add(exit.filter, `exits.${i}.filter`, eventScope));
  steps.forEach((step, i) => {
    if (step.type === 'wait-for-event') add(step.match.filter, `steps.${i}.match.filter`, eventScope);
    if (step.type === 'branch') {
      step.branches.forEach((branch, j) => add(branch.when, `steps.${i}.branches.${j}.when`, runScope));
    }
  });
  return sites;
}

function pathSites({ reentry, steps }: JourneyDefinition): PathSite[] {
  const sites: PathSite[] = [];
  if (reentry.policy === 'always') sites.push({ at: 'reentry.key', path: reentry.key, scope: eventScope });
  steps.forEach((step, i) => {
    if (step.type === 'wait-until' && step.at)
      sites.push({ at: `steps.${i}.at.path`, path: step.at.path, scope: runScope });
  });
  return sites;
}

/** The comparisons of a condition tree, each with its path. */
function comparisons(condition: Condition, at: string): { comparison: Comparison; at: string }[] {
  if ('all' in condition) return condition.all.flatMap((item, i) => comparisons(item, `${at}.all.${i}`));
  if ('any' in condition) return condition.any.flatMap((item, i) => comparisons(item, `${at}.any.${i}`));
  if ('not' in condition) return comparisons(condition.not, `${at}.not`);
  return [{ comparison: condition, at }];
}

function pathProblem(path: string, scope: Scope, steps: readonly Step[]): string | undefined {
  const [root = '', stepId] = path.split('.');
  if (!scope.includes(root) || stepId === undefined) {
    return `must start with ${scope.map((r) => `${r}.`).join(', ')}`;
  }
  const stepType = stepRoots[root];
  if (stepType && !steps.some((step) => step.id === stepId && step.type === stepType)) {
    return `${root}.${stepId} names no ${stepType} step`;
  }
  return undefined;
}

function valueProblem({ op, value }: Comparison): string | undefined {
  switch (op) {
    case 'exists':
      return value === undefined ? undefined : 'exists takes no value';
    case 'in':
      return Array.isArray(value) ? undefined : 'in needs an array value';
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return typeof value === 'number' || typeof value === 'string' ? undefined : `${op} needs a number or a string`;
    case 'eq':
    case 'neq':
    case 'contains':
      return value === undefined ? `${op} needs a value` : undefined;
  }
}

const checkConditions: Check = (definition) =>
  conditionSites(definition).flatMap(({ condition, at: siteAt, scope }) =>
    comparisons(condition, siteAt).flatMap(({ comparison, at }) => {
      const pathError = pathProblem(comparison.path, scope, definition.steps);
      const valueError = valueProblem(comparison);
      return [
        ...(pathError ? [{ path: `${at}.path`, message: pathError }] : []),
        ...(valueError ? [{ path: `${at}.value`, message: valueError }] : []),
      ];
    }),
  );

const checkPaths: Check = (definition) =>
  pathSites(definition).flatMap(({ at, path, scope }) => {
    const error = pathProblem(path, scope, definition.steps);
    return error ? [{ path: at, message: error }] : [];
  });

/** An event that both converts and exits would make the run's outcome depend on the order of checks. */
const checkGoalsAndExits: Check = ({ goals, exits }) => {
  const goalEvents = new Set(goals.map((goal) => goal.event));
  return exits.flatMap((exit, i) =>
    goalEvents.has(exit.event) ? [{ path: `exits.${i}.event`, message: `is also a goal event: "${exit.event}"` }] : [],
  );
};

/** A holdout compares conversion: without a goal there is nothing to compare, and the held-out entrants only wait. */
const checkHoldout: Check = ({ holdout, goals }) =>
  holdout && holdout.percent > 0 && goals.length === 0
    ? [{ path: 'holdout', message: 'needs at least one goal: a holdout measures conversion to the goals' }]
    : [];

const checks: Check[] = [
  checkStart,
  checkUniqueIds,
  checkNextIds,
  checkReachable,
  checkLoops,
  checkTemplates,
  checkWebhookBodies,
  checkWebhookUrls,
  checkWaitUntil,
  checkConditions,
  checkPaths,
  checkGoalsAndExits,
  checkHoldout,
];

#!/usr/bin/env node
/**
 * `journeys`, the operator's command line (package.json `bin`): journeys and runs through the API, histories
 * straight from Temporal, replays against the current workflow code. docs/operations.md is its reference.
 */
import { createReadStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import path from 'node:path';
import { ConfigError, loadConfig } from '../runtime/config';
import { historyToJson } from '../runtime/temporal-history';
import { ApiClient, ApiError, ApiUnreachableError, apiTarget } from './api-client';
import {
  bundleWorkflows,
  exportHistory,
  HistoryDecodeError,
  historyFiles,
  historyKeys,
  quietReplayLogs,
  replayHistories,
} from './history';

const USAGE = `usage: journeys <command> [options]

Journeys and runs (through the API at JOURNEYS_API_URL, default http://127.0.0.1:3000; key from
JOURNEYS_API_KEY, else the first key of API_KEYS, else npm start's development key):
  validate <file.json>            check a journey definition; every problem with its path
  publish <file.json>             create or replace the journey's draft, then publish it as a new version
  runs [filters]                  search runs: --journey <id> --status <status> --step <step>
                                  --consumer <id> --version <n> --page-size <n> --page-token <token>
                                  --all (every page) --json
  import <file.ndjson|->           import events in bulk (one JSON event per line; - reads stdin),
                                  streamed to POST /v1/events/bulk; bad lines by number
  simulate <journeyId|file.json>  simulate a journey before publishing it (POST /v1/journeys/:id/simulate):
                                  --version <n|draft|latest> (default draft; a file is simulated as written),
                                  --consumers <id,id,...> | --filter <key=value,...> [--limit <n>] |
                                  --synthetic <n>, --horizon <duration>, --seed <seed>, --request <file.json>
                                  (any field of the request: events, delivery, ...), --json (the whole answer)
  state <workflowId> [--json]     one run's status and state
  cancel <workflowId>             cancel a run

Histories (straight to Temporal, with the service's TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE and
PAYLOAD_ENCRYPTION_KEYS, else the development key in DATA_DIR):
  export-history <workflowId> [--out <file.json>] [--run-id <id>] [--keep-encrypted]
                                  a run's history as JSON, payloads decoded (a replay fixture)
  replay <file|dir>... [--workflows <module>]
                                  replay histories against the current workflow code (or <module>);
                                  prints ok or the error per file (payloads kept encrypted are
                                  decoded with the same keys)

Exit status: 0 done, 1 failed (an API error, an invalid journey, a replay that failed, an import with bad
lines), 2 usage error.`;

/** Thrown for a command line that cannot be run; exits 2 with the usage. */
class UsageError extends Error {}

/** Options that take no value. */
const switches = new Set(['all', 'json', 'keep-encrypted', 'help']);

interface Parsed {
  positional: string[];
  options: Map<string, string>;
}

function parseArgs(args: string[], allowed: string[]): Parsed {
  const positional: string[] = [];
  const options = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const [name = '', inline] = arg.slice(2).split(/=(.*)/s, 2);
    if (!allowed.includes(name) && name !== 'help') throw new UsageError(`unknown option --${name}`);
    if (switches.has(name)) {
      options.set(name, 'true');
      continue;
    }
    const value = inline ?? args[++i];
    if (value === undefined || value === '') throw new UsageError(`--${name} needs a value`);
    options.set(name, value);
  }
  return { positional, options };
}

function one(parsed: Parsed, what: string): string {
  const [value, ...rest] = parsed.positional;
  if (!value) throw new UsageError(`missing ${what}`);
  if (rest.length > 0) throw new UsageError(`unexpected ${rest.join(' ')}`);
  return value;
}

async function readJson(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`${file} is not JSON: ${(err as Error).message}`);
  }
}

const print = (line: string) => process.stdout.write(`${line}\n`);

/** The parts of a simulation's answer (journeys/simulation/report.ts) the CLI prints. */
interface SimulationSummary {
  journeyId: string;
  version: number | string;
  horizon: string;
  elapsedMs: number;
  runs: Record<string, number>;
  paths: { steps: string[]; runs: number; share: number }[];
  otherPaths: number;
  messages: {
    sent: Record<string, number>;
    skipped: Record<string, number>;
    failed: Record<string, number>;
    deferred: Record<string, number>;
  };
  cost: { currency: string; byChannel: Record<string, number>; total: number };
  duration: { runs: number; p50?: { text: string }; p90?: { text: string } };
  learning?: {
    step: string;
    reward: string;
    costWeight: number;
    decisions: number;
    chosen: Record<string, number>;
    byTenth: {
      entrants: { first: number; last: number };
      chosen: Record<string, number>;
      regret?: { policy: number; uniform: number };
    }[];
    posteriors: {
      persona: string;
      channel: string;
      trials: number;
      pending: number;
      mean: number;
      interval: { low: number; high: number };
    }[];
    regret?: { bestChannel: string; policy: number; uniform: number; expected: { best: number; policy: number } };
  }[];
}

const listed = (counts: Record<string, number>) =>
  Object.entries(counts)
    .filter(([, n]) => n > 0)
    .map(([key, n]) => `${key} ${n}`)
    .join(', ') || 'none';

/** A simulation's answer, for people. */
function printSimulation(report: SimulationSummary): void {
  const { runs, messages, cost } = report;
  print(
    `${report.journeyId} (${typeof report.version === 'number' ? `version ${report.version}` : report.version}): ` +
      `${counted(runs.total ?? 0, 'run')} over ${report.horizon}, simulated in ${(report.elapsedMs / 1000).toFixed(1)} s`,
  );
  print(
    `  runs: converted ${runs.converted}, completed ${runs.completed}, failed ${runs.failed}, running at the horizon ` +
      `${runs.running}; conversion ${((runs.conversionRate ?? 0) * 100).toFixed(1)} %`,
  );
  print(`  journey time: p50 ${report.duration.p50?.text ?? '-'}, p90 ${report.duration.p90?.text ?? '-'}`);
  const { total: sentTotal = 0, ...sent } = messages.sent;
  print(`  messages: ${sentTotal} (${listed(sent)})`);
  print(
    `  skipped: ${listed(messages.skipped)}; failed: ${listed(messages.failed)}; deferred: ${listed(messages.deferred)}`,
  );
  print(`  cost: ${cost.total} ${cost.currency} (${listed(cost.byChannel)})`);
  print('  paths:');
  for (const path of report.paths.slice(0, 10))
    print(
      `    ${String(path.runs).padStart(5)}  ${(path.share * 100).toFixed(1).padStart(5)} %  ${path.steps.join(' > ')}`,
    );
  const more = report.paths.slice(10).reduce((sum, p) => sum + p.runs, report.otherPaths);
  if (more > 0) print(`    ${String(more).padStart(5)}  on other paths`);
  for (const learned of report.learning ?? []) {
    print(
      `  learned step ${learned.step} (reward ${learned.reward}, cost weight ${learned.costWeight}): ` +
        `${counted(learned.decisions, 'decision')} (${listed(learned.chosen)})`,
    );
    print('    by tenth of the entrants:');
    for (const tenth of learned.byTenth) {
      const regret = tenth.regret ? `; regret ${tenth.regret.policy} (uniform ${tenth.regret.uniform})` : '';
      const { first, last } = tenth.entrants;
      print(`      ${`${first}-${last}`.padStart(11)}  ${listed(tenth.chosen)}${regret}`);
    }
    for (const p of learned.posteriors)
      print(
        `    ${p.persona ? `persona ${p.persona}, ` : ''}${p.channel}: mean ${p.mean} (95 % ${p.interval.low}-` +
          `${p.interval.high}), ${p.trials} trials${p.pending > 0 ? `, ${p.pending} pending` : ''}`,
      );
    if (learned.regret)
      print(
        `    regret against the best channel (${learned.regret.bestChannel}): ${learned.regret.policy} of ` +
          `${learned.regret.expected.best} expected; a uniform choice: ${learned.regret.uniform}`,
      );
  }
}

/** `1 run`, `2 runs`. */
const counted = (count: number, noun: string) => `${count} ${noun}${count === 1 ? '' : 's'}`;

interface RunSummary {
  workflowId: string;
  journeyId?: string | null;
  journeyVersion?: number | null;
  journeyStatus?: string | null;
  status?: string;
  step?: string | null;
  startTime?: string;
}

/** The answer of `POST /v1/events/bulk`. */
interface BulkAnswer {
  lines: number;
  accepted: number;
  duplicates: number;
  rejected: number;
  errors: { line: number; message: string; fields?: { path: string; message: string }[] }[];
  errorsTruncated?: boolean;
}

interface RunsPage {
  runs: RunSummary[];
  nextPageToken?: string | null;
}

const runFilters: [option: string, query: string][] = [
  ['journey', 'journeyId'],
  ['status', 'status'],
  ['step', 'step'],
  ['consumer', 'consumerId'],
  ['version', 'version'],
  ['page-size', 'pageSize'],
];

/** Runs one command; resolves to the exit status. */
export async function run(argv: string[]): Promise<number> {
  const [command, ...args] = argv;
  if (!command) throw new UsageError('missing the command');
  if (command === 'help' || command === '--help' || command === '-h') {
    print(USAGE);
    return 0;
  }
  const api = () => new ApiClient(apiTarget());

  switch (command) {
    case 'validate': {
      const file = one(parseArgs(args, []), 'the journey file');
      const result = await api().request<{ valid: boolean; problems: { path: string; message: string }[] }>(
        'POST',
        '/v1/journeys/validate',
        await readJson(file),
      );
      if (result.valid) {
        print(`${file}: valid`);
        return 0;
      }
      process.stderr.write(`${file}: ${counted(result.problems.length, 'problem')}\n`);
      for (const problem of result.problems) process.stderr.write(`  ${problem.path}: ${problem.message}\n`);
      return 1;
    }

    case 'publish': {
      const file = one(parseArgs(args, []), 'the journey file');
      const definition = await readJson(file);
      const id = (definition as { id?: unknown } | null)?.id;
      if (typeof id !== 'string' || id === '') throw new UsageError(`${file} has no "id"`);
      const client = api();
      const journeyPath = `/v1/journeys/${encodeURIComponent(id)}`;
      let draft = 'replaced';
      try {
        await client.request('PUT', journeyPath, definition);
      } catch (err) {
        if (!(err instanceof ApiError && err.status === 404)) throw err;
        await client.request('POST', '/v1/journeys', definition);
        draft = 'created';
      }
      const published = await client.request<{ version: number }>('POST', `${journeyPath}/publish`);
      print(`${id}: draft ${draft}, published as version ${published.version}`);
      return 0;
    }

    case 'runs': {
      const parsed = parseArgs(args, [...runFilters.map(([option]) => option), 'page-token', 'all', 'json']);
      if (parsed.positional.length > 0) throw new UsageError(`unexpected ${parsed.positional.join(' ')}`);
      const query = new URLSearchParams();
      for (const [option, name] of runFilters) {
        const value = parsed.options.get(option);
        if (value !== undefined) query.set(name, value);
      }
      const client = api();
      let token = parsed.options.get('page-token');
      const all = parsed.options.has('all');
      const runs: RunSummary[] = [];
      let next: string | null | undefined;
      do {
        if (token) query.set('pageToken', token);
        const page = await client.request<RunsPage>('GET', `/v1/runs?${query.toString()}`);
        runs.push(...page.runs);
        next = page.nextPageToken;
        token = next ?? undefined;
      } while (all && next);
      if (parsed.options.has('json')) {
        print(JSON.stringify(all ? { runs } : { runs, nextPageToken: next ?? null }, null, 2));
        return 0;
      }
      for (const r of runs) {
        const journey = r.journeyId ? `${r.journeyId}@${r.journeyVersion ?? '?'}` : '-';
        print([r.workflowId, journey, r.journeyStatus ?? r.status ?? '-', r.step ?? '-', r.startTime ?? ''].join('\t'));
      }
      process.stderr.write(
        `${counted(runs.length, 'run')}${next && !all ? `; next page: --page-token ${next}` : ''}\n`,
      );
      return 0;
    }

    case 'import': {
      const file = one(parseArgs(args, []), 'the NDJSON file (or - for stdin)');
      const input = file === '-' ? process.stdin : createReadStream(file);
      const answer = await api().upload<BulkAnswer>(
        '/v1/events/bulk',
        Readable.toWeb(input) as ReadableStream<Uint8Array>,
        'application/x-ndjson',
      );
      print(
        `${file}: ${answer.lines} lines, ${answer.accepted} accepted, ${answer.duplicates} duplicates, ` +
          `${answer.rejected} rejected`,
      );
      for (const error of answer.errors) {
        const fields = (error.fields ?? []).map((f) => `${f.path}: ${f.message}`).join('; ');
        process.stderr.write(`  line ${error.line}: ${fields || error.message}\n`);
      }
      if (answer.errorsTruncated) process.stderr.write(`  (only the first ${answer.errors.length} bad lines listed)\n`);
      return answer.rejected > 0 ? 1 : 0;
    }

    case 'simulate': {
      const parsed = parseArgs(args, [
        'version',
        'consumers',
        'filter',
        'limit',
        'synthetic',
        'horizon',
        'seed',
        'request',
        'json',
      ]);
      const target = one(parsed, 'the journey id or file');
      const option = (name: string) => parsed.options.get(name);
      const body: Record<string, unknown> = option('request')
        ? ((await readJson(option('request')!)) as Record<string, unknown>)
        : {};
      let id = target;
      if (target.endsWith('.json')) {
        const definition = await readJson(target);
        const fileId = (definition as { id?: unknown } | null)?.id;
        if (typeof fileId !== 'string' || fileId === '') throw new UsageError(`${target} has no "id"`);
        id = fileId;
        body.definition = definition;
      } else if (option('version')) {
        const version = option('version')!;
        body.version = /^\d+$/.test(version) ? Number(version) : version;
      }
      if (option('consumers')) body.sample = { consumerIds: option('consumers')!.split(',').filter(Boolean) };
      else if (option('synthetic')) body.sample = { synthetic: { count: Number(option('synthetic')) } };
      else if (option('filter') || option('limit')) {
        const attributes = Object.fromEntries(
          (option('filter') ?? '')
            .split(',')
            .filter(Boolean)
            .map((pair) => {
              const [key = '', value = ''] = pair.split(/=(.*)/s, 2);
              if (!key) throw new UsageError(`--filter wants key=value pairs, not ${pair}`);
              let parsedValue: unknown = value;
              try {
                parsedValue = JSON.parse(value);
              } catch {
                // a plain string
              }
              return [key, parsedValue];
            }),
        );
        body.sample = {
          ...(Object.keys(attributes).length > 0 ? { filter: { attributes } } : {}),
          limit: Number(option('limit') ?? 1000),
        };
      }
      if (!body.sample)
        throw new UsageError('say which consumers: --consumers, --filter/--limit, --synthetic or --request');
      if (option('horizon')) body.horizon = option('horizon');
      if (option('seed')) body.seed = /^-?\d+$/.test(option('seed')!) ? Number(option('seed')) : option('seed');
      const report = await api().request<SimulationSummary>(
        'POST',
        `/v1/journeys/${encodeURIComponent(id)}/simulate`,
        body,
      );
      if (parsed.options.has('json')) {
        print(JSON.stringify(report, null, 2));
        return 0;
      }
      printSimulation(report);
      return 0;
    }

    case 'state': {
      const parsed = parseArgs(args, ['json']);
      const workflowId = one(parsed, 'the workflow id');
      const state = await api().request<Record<string, unknown>>('GET', `/v1/runs/${encodeURIComponent(workflowId)}`);
      print(JSON.stringify(state, null, 2));
      return 0;
    }

    case 'cancel': {
      const workflowId = one(parseArgs(args, []), 'the workflow id');
      await api().request('POST', `/v1/runs/${encodeURIComponent(workflowId)}/cancel`);
      print(`${workflowId}: cancellation requested`);
      return 0;
    }

    case 'export-history': {
      const parsed = parseArgs(args, ['out', 'run-id', 'keep-encrypted']);
      const workflowId = one(parsed, 'the workflow id');
      const keepEncrypted = parsed.options.has('keep-encrypted');
      const history = await exportHistory(loadConfig(), workflowId, {
        runId: parsed.options.get('run-id'),
        keepEncrypted,
      });
      const out = parsed.options.get('out');
      if (!out) {
        print(historyToJson(history));
        return 0;
      }
      await writeFile(out, historyToJson(history));
      process.stderr.write(
        `wrote ${history.events?.length ?? 0} events of ${workflowId} to ${out}` +
          (keepEncrypted ? ' (payloads as stored)\n' : ' (payloads decoded: the file holds their plaintext)\n'),
      );
      return 0;
    }

    case 'replay': {
      const parsed = parseArgs(args, ['workflows']);
      if (parsed.positional.length === 0) throw new UsageError('missing the history file or folder');
      const files = (await Promise.all(parsed.positional.map(historyFiles))).flat();
      if (files.length === 0) throw new UsageError(`no .json histories in ${parsed.positional.join(' ')}`);
      const workflows = parsed.options.get('workflows');
      quietReplayLogs();
      const outcomes = await replayHistories(
        files,
        await bundleWorkflows(workflows ? require.resolve(path.resolve(workflows)) : undefined),
        await historyKeys(loadConfig()),
      );
      for (const { file, error } of outcomes)
        print(error ? `FAIL ${file}: ${error.name}: ${error.message}` : `ok   ${file}`);
      const failed = outcomes.filter((o) => o.error).length;
      process.stderr.write(`${outcomes.length - failed} replayed, ${failed} failed\n`);
      return failed > 0 ? 1 : 0;
    }

    default:
      throw new UsageError(`unknown command ${command}`);
  }
}

if (require.main === module) {
  run(process.argv.slice(2)).then(
    (status) => process.exit(status),
    (err: unknown) => {
      if (err instanceof UsageError) {
        process.stderr.write(`journeys: ${err.message}\n\n${USAGE}\n`);
        process.exit(2);
      }
      if (err instanceof ApiError) process.stderr.write(`journeys: ${err.describe()}\n`);
      else if (err instanceof ApiUnreachableError || err instanceof ConfigError || err instanceof HistoryDecodeError)
        process.stderr.write(`journeys: ${err.message}\n`);
      else if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        process.stderr.write(`journeys: ${(err as Error).message}\n`);
      else process.stderr.write(`journeys: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}

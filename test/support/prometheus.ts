/**
 * Reads a `/metrics` answer as Prometheus would: parse-prometheus-text-format parses it, and the checks it leaves
 * out are made here (it accepts a non-number value, and silently merges a family declared twice, which Prometheus
 * refuses). Then series are looked up by name and labels.
 */
import assert from 'node:assert/strict';
import parsePrometheusTextFormat, { type Family } from 'parse-prometheus-text-format';

const name = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const labels = `\\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*",?)*\\}`;
// Go's ParseFloat, which Prometheus reads values with, takes Inf and NaN in any case (prom-client writes `Nan`).
const value = '(?:[-+]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][-+]?\\d+)?|[-+]?[iI][nN][fF]|[nN][aA][nN])';
const sampleLine = new RegExp(`^(${name})(?:${labels})? ${value}(?: -?\\d+)?$`);

/** The metrics of one scrape. */
export interface Scrape {
  text: string;
  families: Family[];
  /** The family called `family`. */
  family(family: string): Family | undefined;
  /** The value of the series `metric` (a sample name: `x_total`, `h_count`) whose labels include `match`, summed; 0 when none. */
  value(metric: string, match?: Record<string, string>): number;
}

/** Parses and checks `text`; fails the test naming the first line Prometheus would refuse. */
export function parseScrape(text: string): Scrape {
  const declared = new Map<string, string>();
  let current: string | undefined;
  for (const [index, line] of text.split('\n').entries()) {
    if (line === '') continue;
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      assert.ok(!declared.has(type[1]!), `line ${index + 1}: family ${type[1]} declared twice`);
      declared.set(type[1]!, type[2]!);
      current = type[1];
      continue;
    }
    if (line.startsWith('#')) {
      assert.match(line, /^# (HELP \S+ .*|[^TH].*)$/, `line ${index + 1}: a comment Prometheus cannot read`);
      continue;
    }
    const sample = sampleLine.exec(line);
    assert.ok(sample, `line ${index + 1} is no sample: ${line}`);
    const family = sample[1]!;
    if (current && family !== current) {
      const suffixes = { histogram: ['_bucket', '_sum', '_count'], summary: ['_sum', '_count'] }[
        declared.get(current) as 'histogram' | 'summary'
      ] ?? [''];
      assert.ok(
        suffixes.some((suffix) => family === `${current}${suffix}`),
        `line ${index + 1}: ${family} inside family ${current}`,
      );
    }
  }
  // The package parses it all (it throws on a line it cannot read), but merges a labelled histogram's series into
  // one: values are read from the checked sample lines instead.
  const families = parsePrometheusTextFormat(text);
  const byName = new Map(families.map((family) => [family.name, family]));
  const samples = text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [, metric = '', labelText = '', raw = ''] = /^([^{ ]+)(?:\{(.*)\})? (\S+)/.exec(line) ?? [];
      const labels: Record<string, string> = {};
      for (const [, key = '', escaped = ''] of labelText.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
        labels[key] = escaped.replace(/\\(.)/g, (_all, c: string) => (c === 'n' ? '\n' : c));
      }
      return { metric, labels, value: Number(raw) };
    });
  return {
    text,
    families,
    family: (family) => byName.get(family),
    value: (metric, match = {}) =>
      samples
        .filter((sample) => sample.metric === metric)
        .filter((sample) => Object.entries(match).every(([key, wanted]) => sample.labels[key] === wanted))
        .reduce((total, sample) => total + sample.value, 0),
  };
}

/** Types of parse-prometheus-text-format (the package ships none): the Prometheus text format as families. */
declare module 'parse-prometheus-text-format' {
  /** One sample of a counter, gauge or untyped family; histograms and summaries carry buckets or quantiles. */
  export interface Sample {
    value?: string;
    labels?: Record<string, string>;
    timestamp_ms?: string;
    buckets?: Record<string, string>;
    quantiles?: Record<string, string>;
    count?: string;
    sum?: string;
  }
  /** One metric family. */
  export interface Family {
    name: string;
    help: string;
    type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED';
    metrics: Sample[];
  }
  /** Parses the text format; throws on a line it cannot read. */
  export default function parsePrometheusTextFormat(text: string): Family[];
}

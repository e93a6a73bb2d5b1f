/**
 * The one Liquid engine configuration of the service, for validating journeys and rendering their messages:
 * no file system (no `include`, `render` or `layout`), own properties only, strict filters, and limits on
 * parsing, rendering time and memory. Rendering runs in a worker thread besides (template-sandbox.ts).
 */
import { Liquid, type FS } from 'liquidjs';

/** Tags that read templates from files: never allowed. */
export const FILE_TAGS = ['include', 'render', 'layout'] as const;

/** Limits of one template. */
export const TEMPLATE_LIMITS = {
  /** Characters a template may have. */
  parseLimit: 200_000,
  /** Milliseconds a render may take. */
  renderLimit: 1_000,
  /** Characters and array elements a render may allocate (Liquid's own accounting). */
  memoryLimit: 10_000_000,
  /** Characters a rendered text, subject or HTML part may have. */
  outputLimit: 1_000_000,
} as const;

/** A file system that holds nothing: every lookup fails. */
const noFiles: FS = {
  exists: () => Promise.resolve(false),
  existsSync: () => false,
  readFile: () => Promise.reject(new Error('templates cannot read files')),
  readFileSync: () => {
    throw new Error('templates cannot read files');
  },
  resolve: (_dir, file) => file,
  contains: () => Promise.resolve(false),
  containsSync: () => false,
};

/** A Liquid engine with the service's rules; `html` escapes every output (a consumer value cannot inject markup). */
export function createLiquid({ html = false }: { html?: boolean } = {}): Liquid {
  const engine = new Liquid({
    fs: noFiles,
    root: [],
    partials: [],
    layouts: [],
    relativeReference: false,
    dynamicPartials: false,
    // Strict about syntax, lenient about data: a missing value renders empty, never "undefined".
    strictFilters: true,
    strictVariables: false,
    ownPropertyOnly: true,
    ...(html ? { outputEscape: 'escape' as const } : {}),
    parseLimit: TEMPLATE_LIMITS.parseLimit,
    renderLimit: TEMPLATE_LIMITS.renderLimit,
    memoryLimit: TEMPLATE_LIMITS.memoryLimit,
  });
  for (const name of FILE_TAGS) {
    engine.registerTag(name, {
      parse() {
        throw new Error(`{% ${name} %} is not allowed: templates cannot read files`);
      },
      render() {
        return undefined;
      },
    });
  }
  return engine;
}

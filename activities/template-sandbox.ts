/**
 * Renders journey templates in worker threads with their own small heap and a hard deadline, so that a
 * pathological template (a string doubled past memory, a loop of millions) fails only its own render: it
 * never stalls the event loop that serves the API and the other activities, and never takes the process
 * down. A thread that runs out of memory or time is replaced; the renders queued behind it go on.
 */
import { Worker } from 'node:worker_threads';
import { TEMPLATE_LIMITS } from './liquid';

/** One template to render: its source, and whether it is the HTML part (outputs escaped). */
export interface TemplateSource {
  source: string;
  html?: boolean;
}

/** Thrown when a template does not render: a syntax error, a limit, or the thread's memory or deadline. */
export class TemplateRenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateRenderError';
  }
}

/** Options of the sandbox. */
export interface TemplateSandboxOptions {
  /** Threads rendering at once. @default 2 */
  threads?: number;
  /** Milliseconds before a render's thread is terminated. @default 3000 */
  deadlineMs?: number;
  /** Heap of each thread, in MiB. @default 96 */
  heapMb?: number;
}

interface Job {
  sources: Record<string, TemplateSource>;
  context: unknown;
  resolve: (rendered: Record<string, string>) => void;
  reject: (err: Error) => void;
}

interface Slot {
  worker: Worker;
  /** The thread has loaded its engines: renders start, and their deadline runs, only then. */
  ready: boolean;
  job?: Job;
  timer?: NodeJS.Timeout;
}

type Answer = { ready: true } | { out: Record<string, string> } | { error: string };

/** How long a new thread may take to load its engines (seconds under load) before it counts as failed to start. */
const STARTUP_MS = 60_000;

/**
 * Thrown to the renders waiting when no rendering thread can start: a fault of the process, not of the template, so
 * the activity retries it (a {@link TemplateRenderError} is final).
 */
export class TemplateSandboxUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateSandboxUnavailableError';
  }
}

// The thread's code: the service's Liquid engines (activities/liquid.ts; through ts-node when the service
// runs from its TypeScript sources), one render at a time.
const threadSource = `
const { parentPort, workerData } = require('node:worker_threads');
if (workerData.engineModule.endsWith('.ts')) require('ts-node').register({ transpileOnly: true });
const { createLiquid } = require(workerData.engineModule);
const text = createLiquid();
const html = createLiquid({ html: true });
parentPort.postMessage({ ready: true });
parentPort.on('message', ({ sources, context }) => {
  try {
    const out = {};
    for (const [field, { source, html: isHtml }] of Object.entries(sources)) {
      const rendered = String((isHtml ? html : text).parseAndRenderSync(source, context));
      if (rendered.length > workerData.outputLimit) {
        throw new Error(field + ' renders to more than ' + workerData.outputLimit + ' characters');
      }
      out[field] = rendered;
    }
    parentPort.postMessage({ out });
  } catch (err) {
    parentPort.postMessage({ error: String((err && err.message) || err).split('\\n')[0] });
  }
});
`;

/** A pool of rendering threads, created lazily; idle threads do not keep the process alive. */
export class TemplateSandbox {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly threads: number;
  private readonly deadlineMs: number;
  private readonly heapMb: number;

  constructor(options: TemplateSandboxOptions = {}) {
    this.threads = options.threads ?? 2;
    this.deadlineMs = options.deadlineMs ?? 3_000;
    this.heapMb = options.heapMb ?? 96;
  }

  /** Renders every source over `context`; rejects with {@link TemplateRenderError} when any does not render. */
  render(sources: Record<string, TemplateSource>, context: unknown): Promise<Record<string, string>> {
    return new Promise((resolve, reject) => {
      this.queue.push({ sources, context, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops every thread; queued renders are rejected. */
  async close(): Promise<void> {
    for (const job of this.queue.splice(0)) job.reject(new TemplateRenderError('template sandbox closed'));
    await Promise.all(this.slots.splice(0).map((slot) => this.retire(slot, 'template sandbox closed')));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      const slot = this.slots.find((candidate) => candidate.ready && !candidate.job);
      if (!slot) {
        // A new thread takes the queue once it has loaded (its start-up is not counted in a render's deadline).
        const starting = this.slots.some((candidate) => !candidate.ready);
        if (!starting && this.slots.length < this.threads) this.spawn();
        return;
      }
      const job = this.queue.shift() as Job;
      slot.job = job;
      slot.worker.ref();
      slot.timer = setTimeout(() => {
        void this.retire(slot, `rendering took longer than ${this.deadlineMs} ms`);
      }, this.deadlineMs);
      slot.worker.postMessage({ sources: job.sources, context: job.context });
    }
  }

  private spawn(): Slot {
    const worker = new Worker(threadSource, {
      eval: true,
      workerData: {
        engineModule: require.resolve('./liquid'),
        outputLimit: TEMPLATE_LIMITS.outputLimit,
      },
      resourceLimits: { maxOldGenerationSizeMb: this.heapMb, maxYoungGenerationSizeMb: 16 },
      stdout: true,
      stderr: true,
    });
    worker.unref();
    const slot: Slot = { worker, ready: false };
    const startup = setTimeout(() => {
      void this.failedToStart(slot, `it did not start within ${STARTUP_MS} ms`);
    }, STARTUP_MS);
    startup.unref();
    worker.on('message', (answer: Answer) => {
      if ('ready' in answer) {
        clearTimeout(startup);
        slot.ready = true;
        this.dispatch();
        return;
      }
      const job = this.finish(slot);
      if (!job) return;
      if ('out' in answer) job.resolve(answer.out);
      else job.reject(new TemplateRenderError(answer.error));
      this.dispatch();
    });
    // Out of heap (ERR_WORKER_OUT_OF_MEMORY) or any other death of the thread: its render failed.
    worker.on('error', (err) => {
      clearTimeout(startup);
      if (slot.ready) void this.retire(slot, `rendering failed: ${err.message}`);
      else void this.failedToStart(slot, err.message);
    });
    worker.on('exit', () => {
      clearTimeout(startup);
      if (slot.ready) void this.retire(slot, 'the rendering thread stopped');
      else void this.failedToStart(slot, 'it stopped while loading');
    });
    this.slots.push(slot);
    return slot;
  }

  /** Detaches the slot's job; the slot stays for the next one. */
  private finish(slot: Slot): Job | undefined {
    clearTimeout(slot.timer);
    const job = slot.job;
    slot.job = undefined;
    slot.worker.unref();
    return job;
  }

  /** A thread that could not load: the renders waiting fail retryably (nothing renders here now), the slot goes. */
  private async failedToStart(slot: Slot, reason: string): Promise<void> {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    this.slots.splice(index, 1);
    for (const job of this.queue.splice(0))
      job.reject(new TemplateSandboxUnavailableError(`no rendering thread could start: ${reason}`));
    await slot.worker.terminate().catch(() => undefined);
  }

  /** Fails the slot's render with `reason`, stops its thread and lets a new one take the queue. */
  private async retire(slot: Slot, reason: string): Promise<void> {
    const index = this.slots.indexOf(slot);
    if (index >= 0) this.slots.splice(index, 1);
    this.finish(slot)?.reject(new TemplateRenderError(reason));
    await slot.worker.terminate().catch(() => undefined);
    this.dispatch();
  }
}

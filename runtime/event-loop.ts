/** How late this process's event loop runs (the relay yields to a late loop: journeys/relay.ts). */

/** How long one sample of the loop's lateness lasts. */
export const LOOP_SAMPLE_MS = 200;

const TICK_MS = 10;

/**
 * How late this process's event loop runs: the most a 10 ms timer fired late in the last {@link LOOP_SAMPLE_MS} ms
 * (and in the sample under way).
 * A late loop means callbacks queue behind work: each HTTP request, workflow activation or PostgreSQL answer waits
 * that long before it runs.
 */
export class EventLoopLateness {
  private timer?: NodeJS.Timeout;
  private latest = 0;
  private windowMax = 0;
  private windowStart = 0;
  private lastTick = 0;

  /** The most the loop ran late in the last full sample and the one under way, in ms. */
  get lateMs(): number {
    return Math.max(this.latest, this.windowMax);
  }

  get watching(): boolean {
    return this.timer !== undefined;
  }

  start(): void {
    if (this.timer) return;
    this.lastTick = this.windowStart = performance.now();
    this.timer = setInterval(() => {
      const now = performance.now();
      this.windowMax = Math.max(this.windowMax, now - this.lastTick - TICK_MS);
      this.lastTick = now;
      if (now - this.windowStart >= LOOP_SAMPLE_MS) {
        this.latest = this.windowMax;
        this.windowMax = 0;
        this.windowStart = now;
      }
    }, TICK_MS).unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
    this.latest = this.windowMax = 0;
  }
}

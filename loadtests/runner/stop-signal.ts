/** The end of the load phase: VUs stop starting iterations, and pending think times end at once. */
export class StopSignal {
  private done = false;
  /** wake-ups of everything waiting on the signal (a Set, not AbortSignal listeners: hundreds of VUs wait at once) */
  private readonly waiters = new Set<() => void>();

  get stopped(): boolean {
    return this.done;
  }

  stop(): void {
    if (this.done) return;
    this.done = true;
    for (const wake of this.waiters) wake();
    this.waiters.clear();
  }

  /** Resolves when the load phase ends. */
  whenStopped(): Promise<void> {
    if (this.done) return Promise.resolve();
    return new Promise((resolve) => this.waiters.add(resolve));
  }

  /** Sleeps `ms`, or less when the load phase ends meanwhile. */
  sleep(ms: number): Promise<void> {
    if (this.done || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.waiters.add(wake);
    });
  }
}

/** Sleeps `ms` regardless of the stop signal (polling during verification). */
export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

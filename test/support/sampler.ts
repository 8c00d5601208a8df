/**
 * Runs `check` over and over while a load runs, until stopped: each call returns what it found wrong in
 * one sample, or undefined. Invariants are proven by sampling them during the load, not only after it.
 */
export function sampleWhileRunning(check: () => Promise<string | undefined>, pauseMs = 0) {
  const violations: string[] = [];
  let samples = 0;
  let running = true;
  const pause = () => new Promise((r) => (pauseMs > 0 ? setTimeout(r, pauseMs) : setImmediate(r)));
  const loop = (async () => {
    while (running) {
      const violation = await check();
      samples++;
      if (violation !== undefined) violations.push(violation);
      await pause();
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { samples, violations };
    },
  };
}

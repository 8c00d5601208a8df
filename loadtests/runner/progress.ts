import type { Recorder } from '../lib/recorder.js';

export type ProgressMode = 'auto' | 'always' | 'never';

/**
 * The live progress line on stderr, once per second. On a terminal it redraws one line; otherwise
 * (`always`, CI logs) it prints a line every 10 s so logs stay short. `auto` = only on a terminal.
 */
export function startProgress(label: string, durationMs: number, recorder: Recorder, mode: ProgressMode): () => void {
  const tty = process.stderr.isTTY === true;
  if (mode === 'never' || (mode === 'auto' && !tty)) return () => {};
  const started = Date.now();
  let ticks = 0;
  let unexpected = 0;
  const timer = setInterval(() => {
    ticks += 1;
    const { hist, unexpected: u } = recorder.takeTick();
    unexpected += u;
    if (!tty && ticks % 10 !== 0) return;
    const line =
      `${label}  ${Math.round((Date.now() - started) / 1000)}s/${Math.round(durationMs / 1000)}s` +
      `  ${recorder.all.count} req  ${hist.count} req/s  p50 ${hist.percentile(50).toFixed(1)}  p99 ${hist.percentile(99).toFixed(1)} ms` +
      `  unexpected ${unexpected}`;
    process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
  }, 1000);
  timer.unref();
  return () => {
    clearInterval(timer);
    if (tty) process.stderr.write('\r\x1b[K');
  };
}

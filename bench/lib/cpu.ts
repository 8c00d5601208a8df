import { readFileSync } from 'node:fs';
import { rotated, type RequestShape } from './compare.js';
import { runLoad } from './processes.js';

/** CPU time a process has used so far (user + system, all its threads), in ms; /proc counts in ticks of 10 ms. */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** A server process under load, for a CPU measurement. */
export interface CpuTarget {
  name: string;
  url: string;
  request: RequestShape;
  pid: number;
}

/**
 * Each server's CPU time per request, in µs: `requests` requests to one target at a time, targets
 * alternating for `rounds` rounds, each first in turn. On a shared machine req/s swings with whatever else runs; the CPU a
 * server spends per request swings much less.
 */
export async function cpuPerRequest(targets: CpuTarget[], connections: number, requests: number, rounds = 1): Promise<Record<string, number>> {
  const spent: Record<string, number> = Object.fromEntries(targets.map((t) => [t.name, 0]));
  for (let round = 0; round < rounds; round++) {
    for (const t of rotated(targets, round)) {
      const before = cpuMs(t.pid);
      await runLoad({ ...t.request, url: t.url, connections, amount: requests });
      spent[t.name]! += cpuMs(t.pid) - before;
    }
  }
  return Object.fromEntries(targets.map((t) => [t.name, (spent[t.name]! * 1000) / (requests * rounds)]));
}

import { Redis } from 'ioredis';

/** What a Redis server has spent so far: its main thread's CPU, and the scripts' own time and calls. */
export interface RedisSpent {
  /** used_cpu_user_main_thread + used_cpu_sys_main_thread, µs: the thread every command runs on */
  mainThreadUs: number;
  /** usec of EVAL / EVALSHA in INFO commandstats: the scripts, the commands they call included */
  scriptUs: number;
  scriptCalls: number;
}

function field(info: string, name: string): number {
  const m = new RegExp(`^${name}:([^\\r\\n]*)`, 'm').exec(info);
  return m ? Number(m[1]) : 0;
}

function commandStat(info: string, command: string): { calls: number; usec: number } {
  const m = new RegExp(`^cmdstat_${command}:calls=(\\d+),usec=(\\d+)`, 'm').exec(info);
  return m ? { calls: Number(m[1]), usec: Number(m[2]) } : { calls: 0, usec: 0 };
}

export async function redisSpent(url: string): Promise<RedisSpent> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    const [cpu, stats] = await Promise.all([redis.info('cpu'), redis.info('commandstats')]);
    const scripts = [commandStat(stats, 'evalsha'), commandStat(stats, 'eval')];
    return {
      mainThreadUs: (field(cpu, 'used_cpu_user_main_thread') + field(cpu, 'used_cpu_sys_main_thread')) * 1e6,
      scriptUs: scripts.reduce((s, c) => s + c.usec, 0),
      scriptCalls: scripts.reduce((s, c) => s + c.calls, 0),
    };
  } finally {
    redis.disconnect();
  }
}

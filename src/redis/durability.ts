import { Cluster, ReplyError, type Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import type { RedisClient } from './client.js';

/** The nodes a client writes to: every master of a cluster, or the one Redis. */
export function masters(redis: RedisClient): Redis[] {
  return redis instanceof Cluster ? redis.nodes('master') : [redis];
}

const nodeName = (node: Redis) => `${node.options.host ?? '127.0.0.1'}:${node.options.port ?? 6379}`;

/** Retry-After of a write the replicas did not confirm: a replica usually catches up within a second. */
const RETRY_AFTER_S = '1';

/** The first version with WAITAOF, which waits for replicas to have a write in their AOF on disk. */
const WAITAOF_SINCE = [7, 2];

/**
 * What keeps `REDIS_DURABILITY=fsync` from holding on one master, or null. A reply error to CONFIG (a
 * managed Redis that renames or forbids it) is reported as such; a connection error is thrown.
 */
async function fsyncProblem(node: Redis): Promise<string | null> {
  const name = nodeName(node);
  let settings: string[];
  try {
    settings = await Promise.all(['appendonly', 'appendfsync'].map(async (p) => ((await node.config('GET', p)) as string[])[1] ?? '(unknown)'));
  } catch (err) {
    if (!(err instanceof ReplyError)) throw err;
    return (
      `CONFIG GET is unavailable on Redis ${name} (${(err as Error).message}), so appendonly and appendfsync cannot be checked: ` +
      'if the provider fsyncs the AOF before every reply, set REDIS_DURABILITY=fsync-unverified; otherwise REDIS_DURABILITY=relaxed'
    );
  }
  const [appendonly, appendfsync] = settings;
  const fix = 'set "appendonly yes" and "appendfsync always" in redis.conf (or CONFIG SET both, then CONFIG REWRITE), or accept the losses with REDIS_DURABILITY=relaxed';
  if (appendonly !== 'yes') return `Redis ${name} has appendonly "${appendonly}", REDIS_DURABILITY=fsync needs "yes": ${fix}`;
  if (appendfsync !== 'always') return `Redis ${name} has appendfsync "${appendfsync}", REDIS_DURABILITY=fsync needs "always": ${fix}`;
  return null;
}

async function supportsWaitAof(node: Redis): Promise<boolean> {
  const info = await node.info('server');
  const [major = 0, minor = 0] = (/^redis_version:(\d+)\.(\d+)/m.exec(info) ?? []).slice(1).map(Number);
  return major > WAITAOF_SINCE[0]! || (major === WAITAOF_SINCE[0] && minor >= WAITAOF_SINCE[1]!);
}

type DurabilityConfig = Pick<Config, 'REDIS_DURABILITY' | 'REDIS_REPLICA_ACKS' | 'REDIS_REPLICA_ACK_TIMEOUT_MS'>;

/**
 * The Redis side of "acknowledged means durable": what the masters' persistence is (checked at start and
 * again on every reconnect, since a restarted or failed-over Redis may run another configuration), and
 * the wait for replicas after a request's writes.
 */
export class RedisDurability {
  /** Why the engine must not take traffic (readiness reports it), or null. */
  problem: string | null = null;
  /** WAITAOF when every master has it, else WAIT. */
  private waitAof = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly config: DurabilityConfig,
    private readonly logger: Logger,
  ) {}

  /** Whether request writes wait for replicas; callers skip `confirm` entirely when not. */
  get waitsForReplicas(): boolean {
    return this.config.REDIS_REPLICA_ACKS > 0;
  }

  /** Checks every master now; the problem found, if any, is also kept in `problem`. */
  async check(): Promise<string | null> {
    const nodes = masters(this.redis);
    if (this.waitsForReplicas) {
      const capable = await Promise.all(nodes.map(supportsWaitAof));
      // WAITAOF counts only replicas that fsync an AOF, which a relaxed setup does not ask of them
      this.waitAof = this.config.REDIS_DURABILITY !== 'relaxed' && capable.every(Boolean);
    }
    if (this.config.REDIS_DURABILITY === 'fsync') {
      const problems = await Promise.all(nodes.map(fsyncProblem));
      this.problem = problems.find((p) => p !== null) ?? null;
    }
    return this.problem;
  }

  /** Checks again after each reconnect of a master; a connection lost meanwhile brings another one. */
  watch(): void {
    const recheck = () => {
      this.check().then(
        (problem) => problem && this.logger.error(problem),
        (err: unknown) => this.logger.warn({ err }, 'Redis durability check failed; it runs again on the next reconnect'),
      );
    };
    if (this.redis instanceof Cluster) {
      for (const node of this.redis.nodes('all')) node.on('ready', recheck);
      this.redis.on('+node', (node: Redis) => node.on('ready', recheck));
    } else {
      this.redis.on('ready', recheck);
    }
  }

  /**
   * Waits until REDIS_REPLICA_ACKS replicas of the node that serves `key` have every write this client
   * sent it so far, which includes the call just answered. Throws `replication_unconfirmed` when fewer
   * confirm in time: the write happened on the master and a retry with the same key replays it.
   */
  async confirm(key: string): Promise<void> {
    const { REDIS_REPLICA_ACKS: wanted, REDIS_REPLICA_ACK_TIMEOUT_MS: timeoutMs } = this.config;
    const command: [string, ...number[]] = this.waitAof ? ['waitaof', 0, wanted, timeoutMs] : ['wait', wanted, timeoutMs];
    let reply: unknown;
    if (this.redis instanceof Cluster) {
      // WAIT has no key: a read of `key` in the same pipeline sends it to that key's master, on the
      // connection the write went over
      const results = await this.redis.pipeline().exists(key).call(...command).exec();
      const [err, value] = results![1]!;
      if (err) throw err;
      reply = value;
    } else {
      reply = await this.redis.call(...command);
    }
    const acked = Number(this.waitAof ? (reply as number[])[1] : reply);
    if (acked >= wanted) return;
    throw new AppError(
      'replication_unconfirmed',
      `${acked} of ${wanted} Redis replicas confirmed the write within ${timeoutMs} ms; it may have taken effect: retry with the same Idempotency-Key or event_id`,
      {},
      { 'retry-after': RETRY_AFTER_S },
    );
  }
}

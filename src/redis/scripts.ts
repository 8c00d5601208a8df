import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Result } from 'ioredis';
import type { RedisClient } from './client.js';

const LUA_DIR = fileURLToPath(new URL('../../lua/', import.meta.url));

type Arg = string | number;
/** A script's reply as Redis sends it: a code first, then fields (src/redis/replies.ts decodes it). */
export type RawReply = (string | number)[];

/** Every script in lua/. Each takes its keys first, then its arguments. */
declare module 'ioredis' {
  interface RedisCommander<Context> {
    upsertProduct(...args: Arg[]): Result<RawReply, Context>;
    createHolds(...args: Arg[]): Result<RawReply, Context>;
    releaseHold(...args: Arg[]): Result<RawReply, Context>;
    expireHolds(...args: Arg[]): Result<RawReply, Context>;
    collectEnded(...args: Arg[]): Result<RawReply, Context>;
    createOrder(...args: Arg[]): Result<RawReply, Context>;
    applyPayment(...args: Arg[]): Result<RawReply, Context>;
    expireOrders(...args: Arg[]): Result<RawReply, Context>;
    markPersisted(...args: Arg[]): Result<RawReply, Context>;
    auditProduct(...args: Arg[]): Result<RawReply, Context>;
    joinQueue(...args: Arg[]): Result<RawReply, Context>;
    readTicket(...args: Arg[]): Result<RawReply, Context>;
    admitTickets(...args: Arg[]): Result<RawReply, Context>;
    drawRaffle(...args: Arg[]): Result<RawReply, Context>;
    setHoldEvents(...args: Arg[]): Result<RawReply, Context>;
    markProgress(...args: Arg[]): Result<RawReply, Context>;
  }
}

export interface ScriptSource {
  name: string;
  /** undefined for a script whose number of keys varies (`<name>-n.lua`): its caller passes the number first */
  numberOfKeys: number | undefined;
  lua: string;
}

/** Inlines `-- @include "name"` lines with lua/includes/name.lua (BullMQ's include idea, one level deep). */
function withIncludes(source: string): string {
  return source.replace(/^-- @include "([a-zA-Z]+)"$/gm, (_, name: string) =>
    readFileSync(`${LUA_DIR}includes/${name}.lua`, 'utf8').trimEnd(),
  );
}

/** Reads lua/<name>-<numberOfKeys>.lua and lua/<name>-n.lua files. */
export function readScripts(): ScriptSource[] {
  return readdirSync(LUA_DIR)
    .map((file) => /^([a-zA-Z]+)-(\d+|n)\.lua$/.exec(file))
    .filter((m): m is RegExpExecArray => m !== null)
    .map(([file, name, keys]) => ({
      name: name!,
      numberOfKeys: keys === 'n' ? undefined : Number(keys),
      lua: withIncludes(readFileSync(LUA_DIR + file!, 'utf8')),
    }));
}

let cached: ScriptSource[] | undefined;

/** Defines every script on a client once; ioredis then sends EVALSHA and falls back on NOSCRIPT. */
export function defineScripts<C extends RedisClient>(redis: C): C {
  cached ??= readScripts();
  for (const s of cached) redis.defineCommand(s.name, { numberOfKeys: s.numberOfKeys, lua: s.lua });
  return redis;
}

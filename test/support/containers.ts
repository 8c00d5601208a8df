/**
 * Throwaway Redis and Postgres in Docker for integration tests (testcontainers 11).
 * Guard with `dockerAvailable()` so machines without a Docker engine skip instead of hanging.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import { GenericContainer, Wait, type StartedTestContainer } from 'testcontainers';

const REDIS_PORT = 6379;
const POSTGRES_PORT = 5432;
const DATABASE = 'flashsale';

export async function startContainers(): Promise<{ redisUrl: string; databaseUrl: string; stop(): Promise<void> }> {
  const redis = new GenericContainer('redis:7-alpine')
    .withCommand(['redis-server', '--maxmemory-policy', 'noeviction', '--save', '', '--appendonly', 'no'])
    .withExposedPorts(REDIS_PORT)
    .withWaitStrategy(Wait.forAll([Wait.forListeningPorts(), Wait.forLogMessage(/Ready to accept connections/)]));
  const pg = new GenericContainer('postgres:16-alpine')
    .withEnvironment({ POSTGRES_HOST_AUTH_METHOD: 'trust', POSTGRES_DB: DATABASE })
    .withExposedPorts(POSTGRES_PORT)
    // The image's init phase runs a socket-only server first; only the final server answers on TCP.
    .withWaitStrategy(Wait.forSuccessfulCommand(`pg_isready -h 127.0.0.1 -U postgres -d ${DATABASE}`))
    .withStartupTimeout(120_000);

  const started = await Promise.allSettled([redis.start(), pg.start()]);
  const containers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const stop = async () => {
    await Promise.all(containers.map((c) => c.stop()));
  };
  const [redisResult, pgResult] = started;
  if (redisResult?.status !== 'fulfilled' || pgResult?.status !== 'fulfilled') {
    await stop();
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    throw failed?.reason instanceof Error ? failed.reason : new Error(`container start failed: ${String(failed?.reason)}`);
  }
  return {
    redisUrl: `redis://${hostPort(redisResult.value, REDIS_PORT)}`,
    databaseUrl: `postgres://postgres@${hostPort(pgResult.value, POSTGRES_PORT)}/${DATABASE}`,
    stop,
  };
}

function hostPort(container: StartedTestContainer, port: number): string {
  return `${container.getHost()}:${container.getMappedPort(port)}`;
}

/**
 * Whether a Docker engine answers, decided within about a second: a non-unix DOCKER_HOST is trusted as
 * configured; otherwise its unix socket (or /var/run/docker.sock) must exist and answer GET /_ping.
 */
export async function dockerAvailable(): Promise<boolean> {
  const dockerHost = process.env.DOCKER_HOST;
  if (dockerHost && !dockerHost.startsWith('unix://')) return true;
  const socketPath = dockerHost ? dockerHost.slice('unix://'.length) : '/var/run/docker.sock';
  if (!existsSync(socketPath)) return false;
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/_ping', timeout: 1_000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
  });
}

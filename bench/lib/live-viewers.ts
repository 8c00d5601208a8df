/** What the open dashboards saw. */
export interface LiveViewers {
  /** closes the feeds; the number of snapshots they received */
  stop(): Promise<number>;
}

/**
 * Keeps `count` dashboards' live feeds (`GET /api/admin/live`) open on the engine, as operators watching a
 * drop would, so that every section is measured with them open.
 */
export function watchLive(url: string, adminToken: string, count: number): LiveViewers {
  const controller = new AbortController();
  let snapshots = 0;
  const readers = Array.from({ length: count }, async () => {
    const res = await fetch(`${url}/api/admin/live`, { headers: { authorization: `Bearer ${adminToken}` }, signal: controller.signal });
    if (!res.ok || !res.body) throw new Error(`the live feed answered ${res.status}`);
    const decoder = new TextDecoder();
    let pending = '';
    for await (const chunk of res.body) {
      const lines = (pending + decoder.decode(chunk, { stream: true })).split('\n');
      pending = lines.pop()!;
      snapshots += lines.filter((line) => line === 'event: snapshot').length;
    }
  });
  return {
    async stop() {
      controller.abort();
      const ended = await Promise.allSettled(readers);
      const failed = ended.find((r): r is PromiseRejectedResult => r.status === 'rejected' && !controller.signal.aborted);
      if (failed) throw failed.reason;
      return snapshots;
    },
  };
}

/**
 * Runs `work` for every item, at most `limit` at a time, the items started in order. Work on many
 * products at once lets their Redis commands of one event-loop turn leave in one socket write
 * (`batchWrites`), where one product after the other pays a write and a round trip per command.
 */
export async function forEachConcurrently<T>(items: Iterable<T>, limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const next = items[Symbol.iterator]();
  const worker = async () => {
    for (let item = next.next(); !item.done; item = next.next()) await work(item.value);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

/**
 * Settles like `work`, or rejects with `onTimeout()` when `work` has not settled within `ms`. The work
 * itself goes on; only the wait for it ends.
 */
export function withDeadline<T>(work: PromiseLike<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  return Promise.race([Promise.resolve(work), deadline]).finally(() => clearTimeout(timer));
}

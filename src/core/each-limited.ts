/**
 * Runs `task` over `items` with at most `limit` running at once, in order of index:
 * `limit` workers each take the next item when they finish one. No promise or closure
 * per item beyond the task's own, so a cached rerun of a million items is not paced by
 * queue bookkeeping. Rejects with the first task's error (the other workers finish the
 * item they hold and stop).
 *
 * @example
 * await eachLimited(files, 16, async (file, i) => { results[i] = await score(file); });
 */
export async function eachLimited<T>(items: readonly T[], limit: number, task: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        await task(items[index]!, index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
}

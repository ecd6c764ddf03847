// Leak checks for kernel tests: the ids a test created must be gone after it closes them. Freeing
// is deferred in the kernel (RCU, workqueues), so wait a little before declaring a leak.
import assert from 'node:assert/strict';
import { linkIds, mapIds, programIds } from '../../src/sys/info.js';

const lists = { prog: programIds, map: mapIds, link: linkIds };

export async function assertGone(kind: keyof typeof lists, ids: readonly number[], timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const live = new Set(lists[kind]());
    const left = ids.filter((id) => live.has(id));
    if (left.length === 0) return;
    if (Date.now() > deadline) assert.fail(`${kind} ids still loaded after close: ${left.join(', ')}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

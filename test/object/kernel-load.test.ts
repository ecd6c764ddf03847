// The object layer's output, loaded by the kernel through the Collection loader: the verifier accepts
// every linked program, and test runs compute what the C source says (subprograms, callbacks, global
// data, kconfig externs, prog-array initialisers). Every program and map created is gone afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { Collection } from '../../src/kernel/collection.js';
import { parseObject } from '../../src/object/load-spec.js';
import { buildFixture } from './build.js';
import { needsCommand, needsRoot, loadedProgramIds } from '../helpers/kernel.js';
import { ensureBpffs } from '../../src/sys/mounts.js';

/** Ids of `ids` still loaded, after giving the kernel's deferred release (prog arrays free their
 * programs from a work queue once the map goes) up to 3 s. */
async function stillLoaded(ids: number[]): Promise<number[]> {
  for (let i = 0; ; i++) {
    const live = new Set(loadedProgramIds());
    const left = ids.filter((id) => live.has(id));
    if (!left.length || i >= 30) return left;
    await new Promise((r) => setTimeout(r, 100));
  }
}

function loadAndCheck(name: string, programs?: string[], pinPath?: string): { progIds: number[]; c: Collection } {
  const c = Collection.load(readFileSync(buildFixture(name)), { name, programs, pinPath });
  return { c, progIds: [...c.programs.values()].map((p) => p.id) };
}

test('the kernel verifier accepts every linked program of the fixtures', async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'clang') || !needsCommand(t, 'bpftool')) return;
  const ids: number[] = [];
  const runs: [string, string[] | undefined][] = [
    // fentry cannot load on this kernel (no trampolines): everything else of programs.bpf.c
    ['programs', parseObject(readFileSync(buildFixture('programs')), 'programs').programs.map((p) => p.name).filter((n) => n !== 'sleepy')],
    ['maps', undefined],
    ['legacy', undefined],
    ['core', ['core_reads', 'core_shifted', 'core_sub_a', 'core_sub_b']],
    ['run', undefined],
  ];
  // maps.bpf.c pins hash_map by name: in a folder of the test's own, removed after (the default
  // /sys/fs/bpf would keep it after the run)
  const pins = `${ensureBpffs()}/tsbpf-test-${process.pid}`;
  mkdirSync(pins, { recursive: true });
  try {
    for (const [name, programs] of runs) {
      const { c, progIds } = loadAndCheck(name, programs, pins);
      try {
        assert.equal(c.programs.size, programs?.length ?? parseObject(readFileSync(buildFixture(name)), name).programs.length, name);
        ids.push(...progIds);
      } finally {
        c.close();
      }
    }
    assert.ok(existsSync(`${pins}/hash_map`), 'hash_map pinned by name');
  } finally {
    rmSync(pins, { recursive: true, force: true });
  }
  assert.deepEqual(await stillLoaded(ids), [], 'every program loaded here is gone');
});

test('test runs compute what the C says: subprograms, bpf_loop callback, global data, kconfig, tail call', async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'clang')) return;
  const { c, progIds } = loadAndCheck('run');
  try {
    const pkt = new Uint8Array(64);
    // sum 6 + add3(64) 67 + ro_val 10 + data_val 20 + kernel >= 5.0: 100 + runs * 1000
    assert.equal(c.program('run_all').testRun(pkt).retval, 6 + 67 + 10 + 20 + 100 + 1000);
    assert.equal(c.program('run_all').testRun(pkt).retval, 6 + 67 + 10 + 20 + 100 + 2000, '.bss counter persists');
    assert.equal(c.program('run_global').testRun(pkt).retval, (64 + 3) * 2 + 6);
    assert.equal(c.program('do_tail').testRun(pkt).retval, 77, 'prog array slot 1 filled from the __array initialiser');
    // func_info and line_info reached the kernel, re-based onto the linked stream
    const xlated = execFileSync('bpftool', ['prog', 'dump', 'xlated', 'id', String(c.program('run_global').id), 'linum'], { encoding: 'utf8' });
    assert.match(xlated, /^int run_global\(struct __sk_buff \* skb\):$/m);
    assert.match(xlated, /^int global_twice\(int x\):$/m);
    assert.match(xlated, /^; return add3\(x\) \* 2; \[file:.*run\.bpf\.c line_num:\d+/m);
  } finally {
    c.close();
  }
  assert.deepEqual(await stillLoaded(progIds), []);
});

test('a poisoned CO-RE relocation fails the load with the type and field named', (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'clang')) return;
  const named = (n: string) => (JSON.parse(execFileSync('bpftool', ['prog', 'list', '--json'], { encoding: 'utf8' })) as { name?: string }[]).filter((p) => p.name === n).length;
  const before = named('core_reads');
  assert.throws(() => Collection.load(readFileSync(buildFixture('core')), { name: 'core', programs: ['core_missing', 'core_reads'] }), /no_such_field_xyz/);
  // core_reads (loaded before the failure, or not) must not outlive the failed load
  assert.equal(named('core_reads'), before);
});

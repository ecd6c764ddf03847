// Read-only map values are constants to the verifier, as in the kernel (bpf_map_direct_read of a
// frozen BPF_F_RDONLY_PROG map): a branch on a `const volatile` global that is never taken is never
// explored. Both verifiers judge the fixture alike for each value, and the VM keeps .rodata frozen
// after load so what the verifier read stays true.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileBpf } from '../../src/build/clang.js';
import { Collection } from '../../src/kernel/collection.js';
import { MapError } from '../../src/vm/maps/map.js';
import { Vm, VmLoadError } from '../../src/vm/vm.js';
import { needsCommand, needsRoot } from '../helpers/kernel.js';
import { assertGone } from '../kernel/leaks.js';
import { MULTIARCH_INCLUDE } from './clang-include.js';

function fixture(name: string): string {
  const here = new URL('.', import.meta.url).pathname;
  return here.includes('/dist/') ? join(here, '../../../test/vm/fixtures', name) : join(here, 'fixtures', name);
}

function build(dir: string, unsafe: 0 | 1): Uint8Array {
  const out = compileBpf(fixture('rodata.bpf.c'), { output: join(dir, `rodata${unsafe}.o`), includeDirs: [MULTIARCH_INCLUDE], defines: [`UNSAFE_MODE=${unsafe}`] });
  return new Uint8Array(readFileSync(out));
}

test('rodata constants: a dead branch on a const volatile is not explored (tsbpf)', (t) => {
  if (!needsCommand(t, 'clang')) return;
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-vmro-'));
  try {
    const vm = Vm.loadSync(build(dir, 0));
    const res = vm.verdicts.get('rodata_guard')!;
    assert.ok(res.ok, res.messages.join('\n'));
    // Sign-extended narrow constant folded too: -3 + 5.
    assert.equal(vm.runXdp('rodata_guard', new Uint8Array(64), { engine: 'interp' }).r0, 2n);
    assert.equal(vm.runXdp('rodata_guard', new Uint8Array(64), { engine: 'jit' }).r0, 2n);
    // Frozen: the host cannot change what the verifier relied on.
    const ro = [...vm.maps.values()].find((m) => m.name.endsWith('.rodata'))!;
    assert.ok(ro, `no .rodata map among ${[...vm.maps.keys()].join(', ')}`);
    assert.throws(() => ro.set(new Uint8Array(4), new Uint8Array(ro.spec.valueSize).fill(1)), MapError);
    assert.throws(() => Vm.loadSync(build(dir, 1)), (e: unknown) => e instanceof VmLoadError && /number, not a pointer/.test((e as Error).message));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('rodata constants: the kernel judges both values the same way', async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'clang')) return;
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-vmro-'));
  const ids: number[] = [];
  try {
    const ok = Collection.load(build(dir, 0), { programs: ['rodata_guard'] });
    ids.push(ok.program('rodata_guard').id);
    ok.close();
    assert.throws(() => Collection.load(build(dir, 1), { programs: ['rodata_guard'] }), /invalid mem access 'scalar'/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await assertGone('prog', ids);
});

// Tracing programs (tp_btf, fentry, fexit) read kernel structs through their BTF-typed arguments.
// The kernel makes those loads probe reads (a bad address reads 0, never faults) and refuses stores;
// the VM does the same: the verifier marks the loads, both engines run them as probe reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as O from '../../src/isa/opcodes.js';
import { compileBpf } from '../../src/build/clang.js';
import { Collection } from '../../src/kernel/collection.js';
import { MapType, ProgramType } from '../../src/uapi/bpf.js';
import { ArrayMap } from '../../src/vm/maps/array.js';
import { Vm } from '../../src/vm/vm.js';
import { needsCommand, needsRoot } from '../helpers/kernel.js';
import { assertGone } from '../kernel/leaks.js';
import { alu64r, call, exit, ldx, mov64i, mov64r, stx } from './asm.js';

function fixture(name: string): string {
  const here = new URL('.', import.meta.url).pathname;
  return here.includes('/dist/') ? join(here, '../../../test/vm/fixtures', name) : join(here, 'fixtures', name);
}

const u64s = (...xs: bigint[]): Uint8Array => new Uint8Array(new BigUint64Array(xs).buffer);

// r6 = arg0 (a struct pointer, or garbage); r7 = arg1 (a number); r0 = *(u32 *)(r6 + 16) + arg1.
const PROG = [ldx(O.BPF_DW, 6, 1, 0), ldx(O.BPF_DW, 7, 1, 8), ldx(O.BPF_W, 0, 6, 16), alu64r(O.BPF_ADD, 0, 7), exit()];

test('tracing arguments: loads through them are probe reads on both engines', () => {
  for (const engine of ['interp', 'jit'] as const) {
    const vm = Vm.loadSync({ programs: [{ name: 'p', type: ProgramType.TRACING, insns: PROG }], maps: [{ name: 'm', type: MapType.ARRAY, keySize: 4, valueSize: 32, maxEntries: 1 }] }, { engine });
    assert.deepEqual(vm.verdicts.get('p')!.probeLoads, [2]);
    const m = vm.maps.get('m') as ArrayMap;
    m.set(new Uint8Array(4), u64s(0n, 0n, 0xdeadbeefn, 0n));
    // arg0 points 16 bytes before the value's third u64: the load reads it.
    assert.equal(vm.run('p', u64s(BigInt(m.base), 5n)).r0, 0xdeadbeefn + 5n, engine);
    // A pointer to nothing (the kernel would see a faulting address): 0, not a fault.
    assert.equal(vm.run('p', u64s(0x1234n, 5n)).r0, 5n, engine);
    assert.equal(vm.run('p', u64s(0n, 7n)).r0, 7n, engine);
  }
});

test('tracing arguments: stores and helper memory through them are refused; one load, one kind', () => {
  const load = (insns: typeof PROG) => Vm.loadSync(insns, { type: ProgramType.TRACING, verify: false }).verify();
  const store = load([ldx(O.BPF_DW, 6, 1, 0), stx(O.BPF_W, 6, 6, 0), mov64r(0, 6), exit()]);
  assert.ok(!store.ok);
  assert.match(store.reason!, /tracing argument .* can only be read by a load/);
  // trace_printk(arg0, 8): a helper would read kernel memory without a probe.
  const helper = load([ldx(O.BPF_DW, 1, 1, 0), mov64i(2, 8), mov64i(3, 0), mov64i(4, 0), mov64i(5, 0), call(6), exit()]);
  assert.ok(!helper.ok);
  assert.match(helper.reason!, /tracing argument .* can only be read by a load/);
  // The same load instruction through a tracing argument on one path and the context on the other.
  const mixed = load([
    ldx(O.BPF_DW, 6, 1, 0),
    { code: O.BPF_JMP | O.BPF_JEQ | O.BPF_K, dst: 6, src: 0, off: 1, imm: 0 },
    mov64r(6, 1),
    ldx(O.BPF_DW, 0, 6, 0),
    exit(),
  ]);
  assert.ok(!mixed.ok);
  assert.match(mixed.reason!, /one path and through another pointer on another/);
});

test('tracing arguments: tsbpf and the kernel agree on a tp_btf read and a tp_btf write', async (t) => {
  if (!needsCommand(t, 'clang')) return;
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-vmtr-'));
  const ids: number[] = [];
  try {
    const bytes = new Uint8Array(readFileSync(compileBpf(fixture('tracing.bpf.c'), { output: join(dir, 'tracing.o') })));
    const vm = Vm.loadSync(bytes, { verify: false });
    const ok = vm.verify('ok_btf_read');
    assert.ok(ok.ok, ok.messages.join('\n'));
    assert.ok(ok.probeLoads!.length >= 1);
    const bad = vm.verify('bad_btf_write');
    assert.ok(!bad.ok);
    assert.match(bad.messages.join('\n'), /source: tracing\.bpf\.c:\d+: sk->sk_mark = newstate/);
    if (!needsRoot(t)) return;
    const c = Collection.load(bytes, { programs: ['ok_btf_read'] });
    ids.push(c.program('ok_btf_read').id);
    c.close();
    assert.throws(() => Collection.load(bytes, { programs: ['bad_btf_write'] }), /only read is supported/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await assertGone('prog', ids);
});

// Userspace maps and helpers, through programs run on both engines and through the host API.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as O from '../../src/isa/opcodes.js';
import type { Instruction } from '../../src/isa/instruction.js';
import { MapType, ProgramType } from '../../src/uapi/bpf.js';
import { HashMap } from '../../src/vm/maps/hash.js';
import { LpmTrieMap } from '../../src/vm/maps/lpm-trie.js';
import { ProgArrayMap } from '../../src/vm/maps/prog-array.js';
import { VmMemory } from '../../src/vm/memory.js';
import { Vm } from '../../src/vm/vm.js';
import { alu64i, call, exit, jmpi, lddw, ldmap, ldx, mov64i, mov64r, st, stx } from './asm.js';

const ENGINES = ['interp', 'jit'] as const;
const u32 = (v: number): Uint8Array => new Uint8Array(new Uint32Array([v]).buffer);
const u64 = (v: bigint): Uint8Array => new Uint8Array(new BigUint64Array([v]).buffer);
const H = { lookup: 1, update: 2, del: 3, printk: 6, tail: 12, rbOutput: 130, rbReserve: 131, rbSubmit: 132, rbDiscard: 133, adjHead: 44, adjTail: 65, loadBytes: 26 };

/** key = r1 (u32) on the stack at fp-4; r2 = &key. */
const keyOnStack = (key: number): Instruction[] => [st(O.BPF_W, 10, -4, key), mov64r(2, 10), alu64i(O.BPF_ADD, 2, -4)];

test('hash map: count per key from programs, read by the host', () => {
  for (const engine of ENGINES) {
    // key = ctx[0]; if found, *v += 1; else update(key, 1)
    const prog = [
      ldx(O.BPF_W, 6, 1, 0), stx(O.BPF_W, 10, 6, -4), st(O.BPF_DW, 10, -16, 1),
      ...ldmap(1, 0), mov64r(2, 10), alu64i(O.BPF_ADD, 2, -4), call(H.lookup),
      jmpi(O.BPF_JEQ, 0, 0, 4), ldx(O.BPF_DW, 1, 0, 0), alu64i(O.BPF_ADD, 1, 1), stx(O.BPF_DW, 0, 1, 0), jmpi(O.BPF_JA, 0, 0, 6),
      ...ldmap(1, 0), mov64r(2, 10), alu64i(O.BPF_ADD, 2, -4), mov64r(3, 10), alu64i(O.BPF_ADD, 3, -16), mov64i(4, 0), call(H.update),
      mov64i(0, 0), exit(),
    ];
    // fix the JA: it must skip the update block (7 slots after it? count precisely)
    const ja = prog.findIndex((i) => i.code === (O.BPF_JMP | O.BPF_JA));
    prog[ja] = { ...prog[ja]!, off: prog.length - 2 - (ja + 1) };
    const vm = Vm.loadSync({ programs: [{ name: 'count', type: ProgramType.UNSPEC, insns: prog }], maps: [{ name: 'h', type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 8 }] }, { engine, ctxSize: 4 });
    vm.verify('count');
    for (const k of [1, 2, 1, 3, 1, 2]) vm.run('count', u32(k));
    const h = vm.maps.get('h')!;
    assert.deepEqual(h.get(u32(1)), u64(3n), engine);
    assert.deepEqual(h.get(u32(2)), u64(2n));
    assert.deepEqual(h.get(u32(3)), u64(1n));
    assert.equal(h.get(u32(4)), undefined);
  }
});

test('hash, LRU and LPM trie maps: update flags, eviction, longest prefix', () => {
  const mem = new VmMemory();
  const h = new HashMap({ name: 'h', type: MapType.HASH, keySize: 4, valueSize: 4, maxEntries: 2 }, mem);
  h.set(u32(1), u32(10));
  assert.equal(h.updateBytes(u32(1), u32(11), 1), -17); // NOEXIST on an existing key: -EEXIST
  assert.equal(h.updateBytes(u32(2), u32(20), 2), -2); // EXIST on a missing key: -ENOENT
  h.set(u32(2), u32(20));
  assert.equal(h.updateBytes(u32(3), u32(30), 0), -7); // full: -E2BIG
  assert.equal(h.delete(u32(1)), true);
  assert.equal(h.delete(u32(1)), false);
  const lru = new HashMap({ name: 'l', type: MapType.LRU_HASH, keySize: 4, valueSize: 4, maxEntries: 2 }, mem, true);
  lru.set(u32(1), u32(1));
  lru.set(u32(2), u32(2));
  lru.lookupAddr(u32(1)); // 1 is now the most recently used
  lru.set(u32(3), u32(3)); // evicts 2
  assert.deepEqual(lru.keys().map((k) => k[0]).sort(), [1, 3]);
  const lpm = new LpmTrieMap({ name: 't', type: MapType.LPM_TRIE, keySize: 8, valueSize: 4, maxEntries: 8 }, mem);
  const key = (len: number, ip: number[]): Uint8Array => Uint8Array.from([len, 0, 0, 0, ...ip]);
  lpm.set(key(8, [10, 0, 0, 0]), u32(8));
  lpm.set(key(24, [10, 1, 2, 0]), u32(24));
  lpm.set(key(0, [0, 0, 0, 0]), u32(0));
  assert.deepEqual(lpm.get(key(32, [10, 1, 2, 3])), u32(24));
  assert.deepEqual(lpm.get(key(32, [10, 9, 2, 3])), u32(8));
  assert.deepEqual(lpm.get(key(32, [192, 168, 0, 1])), u32(0));
  assert.equal(lpm.updateBytes(key(33, [1, 2, 3, 4]), u32(1), 0), -22);
  assert.equal(lpm.delete(key(24, [10, 1, 2, 0])), true);
  mem.flushRetired();
  assert.deepEqual(lpm.get(key(32, [10, 1, 2, 3])), u32(8));
});

test('ring buffer: reserve/submit/discard/output from programs, consumed by the host', () => {
  for (const engine of ENGINES) {
    const prog = [
      mov64r(6, 1),
      // output ctx[0..8)
      ...ldmap(1, 0), mov64r(2, 6), mov64i(3, 8), mov64i(4, 0), call(H.rbOutput),
      // reserve 16, fill, submit
      ...ldmap(1, 0), mov64i(2, 16), mov64i(3, 0), call(H.rbReserve), jmpi(O.BPF_JEQ, 0, 0, 6),
      st(O.BPF_DW, 0, 0, 0x41), st(O.BPF_DW, 0, 8, 0x42), mov64r(1, 0), mov64i(2, 0), call(H.rbSubmit), mov64i(0, 0),
      // reserve 8 and discard
      ...ldmap(1, 0), mov64i(2, 8), mov64i(3, 0), call(H.rbReserve), jmpi(O.BPF_JEQ, 0, 0, 3),
      mov64r(1, 0), mov64i(2, 0), call(H.rbDiscard),
      mov64i(0, 0), exit(),
    ];
    const vm = Vm.loadSync({ programs: [{ name: 'rb', type: ProgramType.UNSPEC, insns: prog }], maps: [{ name: 'events', type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 }] }, { engine, ctxSize: 8 });
    assert.ok(vm.verify('rb', { ctxSize: 8 }).ok, vm.verify('rb', { ctxSize: 8 }).messages.join('\n'));
    vm.run('rb', u64(0x1122n));
    vm.run('rb', u64(0x3344n));
    const recs = vm.ringbuf('events').consume();
    assert.equal(recs.length, 4, engine);
    assert.deepEqual(recs[0], u64(0x1122n));
    assert.deepEqual(recs[1], Uint8Array.from([0x41, 0, 0, 0, 0, 0, 0, 0, 0x42, 0, 0, 0, 0, 0, 0, 0]));
    assert.deepEqual(recs[2], u64(0x3344n));
    assert.equal(vm.ringbuf('events').outstanding, 0);
  }
});

test('a run that leaks a ring-buffer record is an error, and the record is discarded', () => {
  const prog = [...ldmap(1, 0), mov64i(2, 8), mov64i(3, 0), call(H.rbReserve), mov64i(0, 0), exit()];
  const vm = Vm.loadSync({ programs: [{ name: 'leak', type: ProgramType.UNSPEC, insns: prog }], maps: [{ name: 'events', type: MapType.RINGBUF, keySize: 0, valueSize: 0, maxEntries: 4096 }] }, { verify: false });
  assert.throws(() => vm.run('leak'), /neither submitted nor discarded/);
  assert.equal(vm.ringbuf('events').outstanding, 0);
  const v = vm.verify('leak');
  assert.equal(v.ok, false);
  assert.match(v.reason!, /reserved at pc 4 is neither submitted nor discarded/);
});

test('bpf_trace_printk formats to the host sink', () => {
  for (const engine of ENGINES) {
    const fmt = 'x=%d u=%x %s!\0';
    const bytes = new TextEncoder().encode(fmt.padEnd(24, '\0'));
    const words = new BigUint64Array(bytes.buffer);
    const prog: Instruction[] = [];
    words.forEach((w, k) => prog.push(...lddw(1, w), stx(O.BPF_DW, 10, 1, -32 + k * 8)));
    prog.push(...lddw(1, 0x6b6fn), stx(O.BPF_DW, 10, 1, -40)); // "ok"
    prog.push(mov64r(1, 10), alu64i(O.BPF_ADD, 1, -32), mov64i(2, 24), mov64i(3, -5), mov64i(4, 7), mov64r(5, 10), alu64i(O.BPF_ADD, 5, -40), call(H.printk), exit());
    const lines: string[] = [];
    const vm = Vm.loadSync(prog, { engine, printk: (l) => lines.push(l) });
    vm.run(undefined);
    assert.deepEqual(lines, ['x=-5 u=7 ok!'], engine);
  }
});

test('tail calls: jump to a program in a prog array, fall through on a missing slot, stop at 33', () => {
  for (const engine of ENGINES) {
    // main: r0 = 1; tail_call(ctx, jmp, ctx[0]); return r0 + 100 (fall-through)
    const main = [mov64r(6, 1), ldx(O.BPF_W, 3, 1, 0), mov64r(1, 6), ...ldmap(2, 0), call(H.tail), mov64i(0, 100), exit()];
    const target = [mov64i(0, 7), exit()];
    // loop: counts in ctx[4] and tail-calls itself
    const loop = [mov64r(6, 1), ldx(O.BPF_W, 2, 6, 4), alu64i(O.BPF_ADD, 2, 1), stx(O.BPF_W, 6, 2, 4), mov64r(1, 6), ...ldmap(2, 0), mov64i(3, 2), call(H.tail), mov64i(0, 55), exit()];
    const vm = Vm.loadSync(
      {
        programs: [
          { name: 'main', type: ProgramType.UNSPEC, insns: main },
          { name: 'target', type: ProgramType.UNSPEC, insns: target },
          { name: 'loop', type: ProgramType.UNSPEC, insns: loop },
        ],
        maps: [{ name: 'jmp', type: MapType.PROG_ARRAY, keySize: 4, valueSize: 4, maxEntries: 4, slots: [[1, 'target'], [2, 'loop']] }],
      },
      { engine, verify: false },
    );
    assert.ok(vm.maps.get('jmp') instanceof ProgArrayMap);
    const ctx = (slot: number): Uint8Array => Uint8Array.from([slot, 0, 0, 0, 0, 0, 0, 0]);
    assert.equal(vm.run('main', ctx(1)).r0, 7n, engine);
    assert.equal(vm.run('main', ctx(3)).r0, 100n);
    const r = vm.run('loop', ctx(0));
    assert.equal(r.r0, 55n);
    // The first run plus 33 tail calls (MAX_TAIL_CALL_CNT) each count once.
    assert.equal(r.mem![4], 34, engine);
  }
});

test('XDP helpers: adjust_head grows and shrinks the front, adjust_tail the end', () => {
  for (const engine of ENGINES) {
    // adjust_head(ctx, ctx_arg) where the delta comes from packet byte 0 (signed)
    const prog = [
      mov64r(6, 1), ldx(O.BPF_W, 2, 1, 0), ldx(O.BPF_W, 3, 1, 4), mov64r(4, 2), alu64i(O.BPF_ADD, 4, 1), jmpr(O.BPF_JGT, 4, 3, 9),
      ldx(O.BPF_B, 2, 2, 0, O.BPF_MEMSX), mov64r(1, 6), call(H.adjHead), mov64r(7, 0), mov64r(1, 6), mov64i(2, -4), call(H.adjTail), alu64r(O.BPF_ADD, 0, 7), exit(),
      mov64i(0, 1), exit(),
    ];
    const vm = Vm.loadSync(prog, { type: ProgramType.XDP, engine });
    const pkt = Uint8Array.from({ length: 40 }, (_, k) => k);
    pkt[0] = 4; // drop 4 bytes at the front
    const a = vm.runXdp(undefined, pkt);
    assert.equal(a.r0, 0n, engine);
    assert.deepEqual(a.packet, pkt.subarray(4, 36));
    pkt[0] = 0xf8; // -8: grow the front by 8 zeroed bytes
    const b = vm.runXdp(undefined, pkt);
    assert.deepEqual(b.packet!.subarray(0, 8), new Uint8Array(8));
    assert.deepEqual(b.packet!.subarray(8), pkt.subarray(0, 36));
    pkt[0] = 30; // would leave less than an Ethernet header: -EINVAL, tail still shrinks
    const c = vm.runXdp(undefined, pkt);
    assert.equal(c.r0, BigInt.asUintN(64, -22n));
    assert.equal(c.packet!.length, 36);
  }
});

test('the plugin hook runs a verified program on a host-defined context', () => {
  // ctx { u32 a; u32 b; u64 out } : out = a * b, return a > b
  const prog = [ldx(O.BPF_W, 2, 1, 0), ldx(O.BPF_W, 3, 1, 4), mov64r(4, 2), alu64r(O.BPF_MUL, 4, 3), stx(O.BPF_DW, 1, 4, 8), mov64i(0, 0), jmpr(O.BPF_JLE, 2, 3, 1), mov64i(0, 1), exit()];
  const vm = Vm.loadSync(prog, { name: 'plugin', ctxSize: 16 });
  assert.ok(vm.verify('plugin', { ctxSize: 16 }).ok);
  const hook = vm.hook('plugin', { a: [0, 4], b: [4, 4], out: [8, 8] }, 16);
  for (const engine of ENGINES) {
    const r = hook({ a: 6, b: 7 }, { engine });
    assert.equal(r.r0, 0n);
    assert.equal(r.ctx.out, 42n);
    assert.equal(hook({ a: 9, b: 2 }, { engine }).r0, 1n);
  }
});

function jmpr(op: number, dst: number, src: number, off: number): Instruction {
  return { code: O.BPF_JMP | op | O.BPF_X, dst, src, off, imm: 0 };
}
function alu64r(op: number, dst: number, src: number): Instruction {
  return { code: O.BPF_ALU64 | op | O.BPF_X, dst, src, off: 0, imm: 0 };
}
void keyOnStack;

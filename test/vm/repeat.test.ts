// `repeat`: N runs on the same context and packet, nothing reset in between, the last run's result —
// BPF_PROG_TEST_RUN's semantics, with the kernel as the oracle; and the per-run buffers reused
// across single runs leave nothing behind from the previous packet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as O from '../../src/isa/opcodes.js';
import { compileBpf } from '../../src/build/clang.js';
import { parseObject } from '../../src/object/load-spec.js';
import { Program } from '../../src/kernel/program.js';
import { ProgramType } from '../../src/uapi/bpf.js';
import { Vm } from '../../src/vm/vm.js';
import { needsCommand, needsRoot } from '../helpers/kernel.js';
import { assertGone } from '../kernel/leaks.js';
import { MULTIARCH_INCLUDE } from './clang-include.js';
import { randomPacket } from './packets.js';
import { Rng } from './random-program.js';
import { alu64i, exit, jmpr, ldx, mov64i, mov64r, stx } from './asm.js';

/** XDP: if the packet has a byte, increment it and return its new value; else XDP_ABORTED. */
const bumpFirstByte = [
  ldx(O.BPF_W, 2, 1, 0), // data
  ldx(O.BPF_W, 3, 1, 4), // data_end
  mov64r(4, 2),
  alu64i(O.BPF_ADD, 4, 1),
  mov64i(0, 0),
  jmpr(O.BPF_JGT, 4, 3, 4),
  ldx(O.BPF_B, 0, 2, 0),
  alu64i(O.BPF_ADD, 0, 1),
  alu64i(O.BPF_AND, 0, 0xff),
  stx(O.BPF_B, 2, 0, 0),
  exit(),
];

test('repeat runs N times on the same packet (interpreter and JIT)', () => {
  const vm = Vm.loadSync(bumpFirstByte, { type: ProgramType.XDP });
  const pkt = new Uint8Array(60);
  pkt[0] = 5;
  for (const engine of ['interp', 'jit'] as const) {
    for (const repeat of [1, 2, 100, 1000]) {
      const r = vm.runXdp(undefined, pkt, { engine, repeat });
      assert.equal(r.r0, BigInt((5 + repeat) & 0xff), `${engine} repeat ${repeat}`);
      assert.equal(r.packet![0], (5 + repeat) & 0xff);
      assert.deepEqual(r.packet!.subarray(1), pkt.subarray(1));
    }
  }
  assert.equal(pkt[0], 5, 'the caller’s packet is not modified');
  for (const bad of [0, -1, 1.5, 2 ** 32]) assert.throws(() => vm.runXdp(undefined, pkt, { repeat: bad }), RangeError);
});

test('repeat: unverified programs loop in JS, each run with its own loop budget', () => {
  const vm = Vm.loadSync(bumpFirstByte, { type: ProgramType.XDP, verify: false, engine: 'jit' });
  const r = vm.runXdp(undefined, new Uint8Array(20), { repeat: 300 });
  assert.equal(r.r0, 300n & 0xffn);
});

test('single runs: a shorter packet after a longer one sees none of the old bytes', () => {
  const vm = Vm.loadSync(bumpFirstByte, { type: ProgramType.XDP });
  for (const engine of ['interp', 'jit'] as const) {
    vm.runXdp(undefined, new Uint8Array(1500).fill(0xaa), { engine });
    const r = vm.runXdp(undefined, new Uint8Array(20), { engine });
    assert.deepEqual([...r.packet!], [1, ...new Array(19).fill(0)]);
  }
  // Past data_end no program can look any more (both engines check accesses against the packet), so
  // look from the host: the frame must be zero there again, as the kernel's freshly zeroed test
  // buffer is. The program returns the address of the packet.
  const data = Vm.loadSync([ldx(O.BPF_W, 0, 1, 0), exit()], { type: ProgramType.XDP, verify: false });
  const at = Number(data.runXdp(undefined, new Uint8Array(1500).fill(0xaa)).r0);
  assert.equal(data.mem.bytes[at + 1000], 0xaa);
  data.runXdp(undefined, new Uint8Array(20));
  assert.equal(data.mem.bytes[at + 1000], 0);
  const peek = Vm.loadSync([ldx(O.BPF_W, 2, 1, 0), ldx(O.BPF_B, 0, 2, 1000), exit()], { type: ProgramType.XDP, verify: false });
  for (const engine of ['interp', 'jit'] as const) assert.throws(() => peek.runXdp(undefined, new Uint8Array(20), { engine }), /outside the packet/, engine);
});

function fixturePath(): string {
  const here = new URL('.', import.meta.url).pathname;
  return here.includes('/dist/') ? join(here, '../../../test/vm/fixtures/net.bpf.c') : join(here, 'fixtures/net.bpf.c');
}

test('repeat agrees with BPF_PROG_TEST_RUN repeat (r0 and packet after N runs)', async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'clang')) return;
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-vm-repeat-'));
  const ids: number[] = [];
  try {
    const obj = compileBpf(fixturePath(), { output: join(dir, 'net.bpf.o'), includeDirs: [MULTIARCH_INCLUDE] });
    const bytes = readFileSync(obj);
    const spec = parseObject(bytes, 'net');
    const vm = Vm.loadSync(bytes);
    const programs = [...spec.programs.map((p) => ({ name: p.name, type: p.type, insns: p.instructions })), { name: 'bump', type: ProgramType.XDP, insns: bumpFirstByte }];
    const bump = Vm.loadSync(bumpFirstByte, { type: ProgramType.XDP, name: 'bump' });
    const g = new Rng(0x7e9ea7);
    for (const p of programs) {
      const prog = Program.load({ type: p.type, instructions: p.insns, license: 'GPL', name: p.name });
      ids.push(prog.id);
      const target = p.name === 'bump' ? bump : vm;
      try {
        for (let k = 0; k < 40; k++) {
          const pkt = randomPacket(g);
          const repeat = 1 + (k % 7);
          let kr;
          try {
            kr = prog.testRun(pkt, { repeat, dataOutSize: pkt.length + 512 });
          } catch (e) {
            if ((e as { errno?: number }).errno !== 22) throw e;
            continue;
          }
          for (const engine of ['interp', 'jit'] as const) {
            const r = target.run(p.name, pkt, { engine, repeat });
            const what = `${p.name} (${engine}) repeat ${repeat} packet ${Buffer.from(pkt).toString('hex')}`;
            assert.equal(Number(r.r0 & 0xffffffffn), kr.retval, `${what}: r0`);
            assert.equal(Buffer.from(r.packet!).toString('hex'), Buffer.from(kr.data).toString('hex'), `${what}: packet`);
          }
        }
      } finally {
        prog.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  await assertGone('prog', ids);
});

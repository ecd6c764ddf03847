// The kernel as oracle for execution: programs the kernel can test-run (XDP, tc, socket filter) give
// the same r0 and output packet in tsbpf's interpreter and JIT as under BPF_PROG_TEST_RUN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MULTIARCH_INCLUDE } from './clang-include.js';
import { needsCommand, needsRoot } from '../helpers/kernel.js';
import { assertGone } from '../kernel/leaks.js';
import { compileBpf } from '../../src/build/clang.js';
import { parseObject } from '../../src/object/load-spec.js';
import { Program } from '../../src/kernel/program.js';
import { ProgramType } from '../../src/uapi/bpf.js';
import { Vm } from '../../src/vm/vm.js';
import { randomPacket } from './packets.js';
import { randomProgram, Rng } from './random-program.js';

const fixture = new URL('../../../test/vm/fixtures/net.bpf.c', import.meta.url).pathname.replace('/dist/test/', '/test/');
const PACKETS = Number(process.env.VM_ORACLE_N ?? 300);

function fixturePath(): string {
  // Works from src (tsx) and from dist (compiled tests).
  const here = new URL('.', import.meta.url).pathname;
  return here.includes('/dist/') ? join(here, '../../../test/vm/fixtures/net.bpf.c') : join(here, 'fixtures/net.bpf.c');
}

test('XDP, tc and socket-filter programs: same r0 and packet as BPF_PROG_TEST_RUN', (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'clang')) return;
  void fixture;
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-vm-'));
  const ids: number[] = [];
  try {
    const obj = compileBpf(fixturePath(), { output: join(dir, 'net.bpf.o'), includeDirs: [MULTIARCH_INCLUDE] });
    const bytes = readFileSync(obj);
    const spec = parseObject(bytes, 'net');
    const vm = Vm.loadSync(bytes);
    assert.deepEqual(vm.programs.sort(), ['sock_filter', 'tc_rewrite', 'xdp_adjust', 'xdp_csum', 'xdp_parse']);
    for (const p of spec.programs) {
      const prog = Program.load({ type: p.type, instructions: p.instructions, license: 'GPL', name: p.name });
      ids.push(prog.id);
      try {
        const g = new Rng(0x5eed + p.name.length);
        const verdicts = new Map<number, number>();
        let refused = 0;
        for (let k = 0; k < PACKETS; k++) {
          const pkt = randomPacket(g);
          let kr;
          try {
            kr = prog.testRun(pkt, { dataOutSize: pkt.length + 512 });
          } catch (e) {
            // The kernel refuses some inputs outright (a short IPv6 header for skb programs).
            if ((e as { errno?: number }).errno !== 22) throw e;
            refused++;
            continue;
          }
          verdicts.set(kr.retval, (verdicts.get(kr.retval) ?? 0) + 1);
          for (const engine of ['interp', 'jit'] as const) {
            const r = vm.run(p.name, pkt, { engine });
            const what = `${p.name} (${engine}) packet ${k}: ${Buffer.from(pkt).toString('hex')}`;
            assert.equal(Number(r.r0 & 0xffffffffn), kr.retval, `${what}: r0`);
            assert.equal(Buffer.from(r.packet!).toString('hex'), Buffer.from(kr.data).toString('hex'), `${what}: packet`);
          }
        }
        assert.ok(refused < PACKETS / 20, `${p.name}: the kernel refused ${refused} packets`);
        // The inputs must exercise more than one outcome, or the comparison proves little.
        assert.ok(verdicts.size > 1, `${p.name}: every packet gave ${[...verdicts.keys()]}`);
      } finally {
        prog.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return assertGone('prog', ids);
});

test('random programs: same r0 as the kernel (interpreter and JIT)', async (t) => {
  if (!needsRoot(t)) return;
  const ids: number[] = [];
  const n = Number(process.env.VM_ORACLE_RANDOM ?? 150);
  const pkt = new Uint8Array(64);
  for (let seed = 1; seed <= n; seed++) {
    const rp = randomProgram(seed * 13 + 5, 20 + (seed % 50), { kernel: true });
    const prog = Program.load({ type: ProgramType.SOCKET_FILTER, instructions: rp.insns, license: 'GPL', name: 'rnd' });
    ids.push(prog.id);
    try {
      const kr = prog.testRun(pkt);
      const vm = Vm.loadSync(rp.insns, { type: ProgramType.SOCKET_FILTER, verify: false });
      for (const engine of ['interp', 'jit'] as const) {
        assert.equal(Number(vm.run(undefined, pkt, { engine }).r0 & 0xffffffffn), kr.retval, `seed ${seed} (${engine})`);
      }
    } finally {
      prog.close();
    }
  }
  await assertGone('prog', ids);
});

test("xdp-shield (the tool's committed object, with LPM block/allow rules): same verdicts as the kernel", async (t) => {
  if (!needsRoot(t)) return;
  const here = new URL('.', import.meta.url).pathname;
  const root = here.includes('/dist/') ? join(here, '../../..') : join(here, '../..');
  const bytes = new Uint8Array(readFileSync(join(root, 'src/tools/xdp-shield/xdp-shield.bpf.o')));
  const { Collection } = await import('../../src/kernel/collection.js');
  const c = Collection.load(bytes, { name: 'xdp-shield' });
  const ids = [...c.programs.values()].map((p) => p.id);
  try {
    const vm = Vm.loadSync(bytes);
    // Rules: block 0.0.0.0/1 (rule 1) and allow 64.0.0.0/2 inside it... and 192.0.0.0/2 blocked (rule 3).
    const rules: [string, number, number[], number][] = [['block4', 1, [0, 0, 0, 0], 1], ['allow4', 2, [64, 0, 0, 0], 2], ['block4', 2, [192, 0, 0, 0], 3]];
    for (const [map, len, addr, id] of rules) {
      const key = Uint8Array.from([len, 0, 0, 0, ...addr]);
      const value = new Uint8Array(new Uint32Array([id]).buffer);
      c.map(map).update(key, value);
      vm.maps.get(map)!.set(key, value);
    }
    // struct shield_config: four u64 rates (0 = off), then the rule counts per list (an empty list
    // is not looked up): n_allow4, n_allow6, n_block4, n_block6; then the generation its per-CPU
    // cache of verdicts is valid for (nonzero: cache on).
    const cfg = new Uint8Array(56);
    new DataView(cfg.buffer).setUint32(32, 1, true);
    new DataView(cfg.buffer).setUint32(40, 2, true);
    new DataView(cfg.buffer).setUint32(48, 7, true);
    const zero = new Uint8Array(4);
    c.map('shield_cfg').update(zero, cfg);
    vm.maps.get('shield_cfg')!.set(zero, cfg);
    const g = new Rng(4242);
    for (const [name, prog] of c.programs) {
      const verdicts = new Map<number, number>();
      for (let k = 0; k < PACKETS; k++) {
        const pkt = randomPacket(g);
        const kr = prog.testRun(pkt, { dataOutSize: pkt.length + 512 });
        verdicts.set(kr.retval, (verdicts.get(kr.retval) ?? 0) + 1);
        for (const engine of ['interp', 'jit'] as const) {
          const r = vm.runXdp(name, pkt, { engine });
          assert.equal(Number(r.r0), kr.retval, `${name} (${engine}) packet ${k}: ${Buffer.from(pkt).toString('hex')}`);
          assert.deepEqual(r.packet, kr.data.subarray(0, r.packet!.length));
        }
      }
      assert.ok(verdicts.size > 1, `${name}: every packet gave ${[...verdicts.keys()]}`);
    }
  } finally {
    c.close();
  }
  await assertGone('prog', ids);
});

// The kernel as oracle for execution: programs the kernel can test-run (XDP, tc, socket filter) give
// the same r0 and output packet in tsbpf's interpreter and JIT as under BPF_PROG_TEST_RUN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
    const obj = compileBpf(fixturePath(), { output: join(dir, 'net.bpf.o'), includeDirs: ['/usr/include/x86_64-linux-gnu'] });
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

// Defence in depth: with the verifier switched off, hostile accesses fail on both engines, with the
// same error, because the engines check every access against the region its pointer came from.
// Also: endless loops and runaway recursion end with a clear error on both engines, and `vm run`
// verifies the program it runs, not the other programs of its object.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as O from '../../src/isa/opcodes.js';
import { insn, type Instruction } from '../../src/isa/instruction.js';
import { compileBpf } from '../../src/build/clang.js';
import { MapType, ProgramType } from '../../src/uapi/bpf.js';
import { vmRunCommand } from '../../src/cli/vm-commands.js';
import { VmError } from '../../src/vm/runtime.js';
import { Vm } from '../../src/vm/vm.js';
import { needsCommand } from '../helpers/kernel.js';
import { alu64i, alu64r, call, callLocal, exit, ja, lddw, ldmap, ldx, mov64i, mov64r, st } from './asm.js';
import { MULTIARCH_INCLUDE } from './clang-include.js';

const ENGINES = ['interp', 'jit'] as const;
const MAPS = [
  { name: 'arr', type: MapType.ARRAY, keySize: 4, valueSize: 8, maxEntries: 4 },
  { name: 'hash', type: MapType.HASH, keySize: 4, valueSize: 8, maxEntries: 4 },
  { name: 'ro', type: MapType.ARRAY, keySize: 4, valueSize: 16, maxEntries: 1, readonly: true, initial: new Uint8Array(16).fill(7) },
];
const mapValue = (dst: number, map: number, off = 0): Instruction[] => [insn(O.BPF_LD | O.BPF_IMM | O.BPF_DW, dst, O.BPF_PSEUDO_MAP_IDX_VALUE, 0, map), insn(0, 0, 0, 0, off)];
/** r0 = lookup(map, key) without a NULL check. */
const lookup = (map: number, key: number): Instruction[] => [st(O.BPF_W, 10, -4, key), ...ldmap(1, map), mov64r(2, 10), alu64i(O.BPF_ADD, 2, -4), call(1)];

const HOSTILE: [name: string, type: ProgramType, body: Instruction[], error: RegExp][] = [
  ['a write to frozen .rodata', ProgramType.XDP, [...mapValue(1, 2), st(O.BPF_W, 1, 0, 1)], /invalid write .* read-only/],
  ['64 KiB past a map value', ProgramType.XDP, [...lookup(0, 1), alu64i(O.BPF_ADD, 0, 65536), ldx(O.BPF_DW, 0, 0, 0)], /invalid read .* outside the value array of map 'arr'/],
  ['8 bytes before a map value', ProgramType.XDP, [...lookup(0, 0), ldx(O.BPF_DW, 0, 0, -8)], /invalid read .* outside the value array of map 'arr'/],
  ['a NULL read', ProgramType.XDP, [mov64i(1, 0), ldx(O.BPF_DW, 0, 1, 0)], /invalid read .* NULL pointer dereference/],
  ['a write through a failed lookup', ProgramType.XDP, [...lookup(1, 3), st(O.BPF_DW, 0, 0, 1)], /invalid write .* NULL pointer dereference/],
  ['a read near NULL', ProgramType.XDP, [mov64i(1, 0), ldx(O.BPF_W, 0, 1, 400)], /invalid read .* near NULL/],
  ['below every stack frame', ProgramType.XDP, [mov64r(1, 10), alu64i(O.BPF_ADD, 1, -4104), st(O.BPF_DW, 1, 0, 0)], /invalid write .*outside the stack/],
  ['above the frame pointer', ProgramType.XDP, [ldx(O.BPF_DW, 0, 10, 0)], /invalid read .* outside the stack/],
  ['a stack pointer moved into a map value', ProgramType.XDP, [...mapValue(1, 0), alu64r(O.BPF_SUB, 1, 10), mov64r(2, 10), alu64r(O.BPF_ADD, 2, 1), st(O.BPF_DW, 2, 0, 1)], /invalid write .* outside the stack/],
  ['the stack plus 4 GiB (no 32-bit wrap)', ProgramType.XDP, [mov64r(1, 10), ...lddw(2, 1n << 32n), alu64r(O.BPF_ADD, 1, 2), ldx(O.BPF_DW, 0, 1, -8)], /invalid read .* outside the stack/],
  ['past the end of the packet', ProgramType.XDP, [ldx(O.BPF_W, 2, 1, 0), ldx(O.BPF_B, 0, 2, 2000)], /invalid read .* outside the packet/],
  ['a write to the read-only xdp_md', ProgramType.XDP, [st(O.BPF_W, 1, 0, 0)], /invalid write .* xdp_md context is read-only/],
  ['past the end of the context', ProgramType.SOCKET_FILTER, [ldx(O.BPF_W, 0, 1, 4096)], /invalid read .* outside the context/],
];

test(`${HOSTILE.length} hostile accesses fail without the verifier, on both engines alike`, () => {
  const pkt = new Uint8Array(64);
  for (const [name, type, body, error] of HOSTILE) {
    const insns = [...body, mov64i(0, 0), exit()];
    const messages = ENGINES.map((engine) => {
      const vm = Vm.loadSync({ programs: [{ name: 'hostile', type, insns }], maps: MAPS }, { verify: false });
      try {
        vm.run('hostile', pkt, { engine });
      } catch (e) {
        assert.ok(e instanceof VmError, `${name} (${engine}): ${(e as Error).stack}`);
        assert.match(e.message, error, `${name} (${engine})`);
        return e.message;
      }
      return assert.fail(`${name}: ran to the end on the ${engine}`);
    });
    assert.equal(messages[1], messages[0], `${name}: the engines disagree`);
  }
});

test('an endless loop without the verifier ends with an error on both engines (vm run --no-verify)', () => {
  for (const engine of ENGINES) {
    const r = vmRunCommand({ prog: new TextEncoder().encode('r0 = 0\nl: r0 += 1\ngoto l\nexit\n'), engine, verify: false });
    assert.equal(r.exitCode, 1, engine);
    assert.match(r.output, /endless loop\?/, engine);
  }
  // Short budgets for the check below, the same limit for both engines.
  const loop = Vm.loadSync([mov64i(0, 0), ja(-1), exit()], { verify: false });
  loop.rt.maxSteps = 10_000;
  for (const engine of ENGINES) assert.throws(() => loop.run(undefined, undefined, { engine }), /(instruction limit|backward-jump budget) of 10000/, engine);
});

test('a program calling itself: "more than 8 call frames" on both engines, the same error', () => {
  // main() { return main(); } and f() { return f(); } called from main
  for (const insns of [[callLocal(-1), exit()], [callLocal(1), exit(), callLocal(-1), exit()]]) {
    const messages = ENGINES.map((engine) => {
      const vm = Vm.loadSync(insns, { verify: false });
      try {
        vm.run(undefined, undefined, { engine });
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    });
    assert.match(messages[0]!, /pc \d+: more than 8 call frames/);
    assert.equal(messages[1], messages[0]);
  }
});

test("vm run --prog X: X's own verdict, not another program's", (t) => {
  if (!needsCommand(t, 'clang')) return;
  const here = new URL('.', import.meta.url).pathname;
  const src = here.includes('/dist/') ? join(here, '../../../test/vm/fixtures/two-programs.bpf.c') : join(here, 'fixtures/two-programs.bpf.c');
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-vm-two-'));
  try {
    const obj = new Uint8Array(readFileSync(compileBpf(src, { output: join(dir, 'two.o'), includeDirs: [MULTIARCH_INCLUDE] })));
    const mem = '00'.repeat(64); // the packet
    assert.deepEqual(vmRunCommand({ prog: obj, name: 'checked', verify: true, mem }), { output: '0x2\n', exitCode: 0 });
    const bad = vmRunCommand({ prog: obj, name: 'unchecked', verify: true, mem });
    assert.equal(bad.exitCode, 1);
    assert.match(bad.output, /program 'unchecked' rejected by the verifier/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});


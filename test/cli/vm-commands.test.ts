// The pure CLI helpers (`tsbpf vm run` / `tsbpf vm verify`), and loading malformed input: a clear
// error, never a crash or a hang.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writePcap } from '../../src/net/pcap.js';
import { vmRunCommand, vmVerifyCommand, progKind } from '../../src/cli/vm-commands.js';
import { Vm } from '../../src/vm/vm.js';
import { Rng } from '../vm/random-program.js';

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const ROOT = (() => {
  const here = new URL('.', import.meta.url).pathname;
  return here.includes('/dist/') ? join(here, '../../..') : join(here, '../..');
})();

test('vm run: assembly, hex and raw bytecode; r0 in hex; --mem sets r1/r2', () => {
  assert.deepEqual(vmRunCommand({ prog: text('r0 = 42\nexit\n') }), { output: '0x2a\n', exitCode: 0 });
  assert.deepEqual(vmRunCommand({ prog: text('b7000000 2a000000\n95000000 00000000\n') }), { output: '0x2a\n', exitCode: 0 });
  assert.deepEqual(vmRunCommand({ prog: Uint8Array.from([0xb7, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0x95, 0, 0, 0, 0, 0, 0, 0]) }), { output: '0xffffffffffffffff\n', exitCode: 0 });
  for (const engine of ['interp', 'jit'] as const) {
    const r = vmRunCommand({ prog: text('r0 = *(u32 *)(r1 + 0)\nr0 += r2\n*(u8 *)(r1 + 4) = 9\nexit\n'), mem: '0100000000', engine });
    assert.deepEqual(r, { output: '0x6\nmem: 0100000009\n', exitCode: 0 }, engine);
  }
  const bad = vmRunCommand({ prog: text('r0 = *(u64 *)(r1 + 8)\nexit\n'), mem: '00' });
  assert.equal(bad.exitCode, 1);
  assert.match(bad.output, /invalid read of 8 byte\(s\)/);
  assert.equal(progKind(text('r0 = 1\nexit')), 'asm');
});

test('vm run --pcap: a verdict per packet', () => {
  // XDP: drop packets whose first byte is odd (after a bounds check), pass the rest.
  const asm = ['r2 = *(u32 *)(r1 + 0)', 'r3 = *(u32 *)(r1 + 4)', 'r4 = r2', 'r4 += 1', 'r0 = 0', 'if r4 > r3 goto +5', 'r5 = *(u8 *)(r2 + 0)', 'r5 &= 1', 'r0 = 2', 'if r5 == 0 goto +1', 'r0 = 1', 'exit'].join('\n');
  const pkts = [1, 2, 3].map((b) => ({ sec: 0, nsec: 0, data: Uint8Array.from({ length: 20 }, (_, k) => (k === 0 ? b : 0)) }));
  const r = vmRunCommand({ prog: text(asm), type: 'xdp', pcap: writePcap(pkts), verify: true });
  assert.deepEqual(r, { output: '1 XDP_DROP\n2 XDP_PASS\n3 XDP_DROP\n', exitCode: 0 });
});

test('vm verify: exit code 0 accept, 1 reject with a reason, 2 unreadable', () => {
  assert.equal(vmVerifyCommand({ prog: text('r0 = 0\nexit\n'), type: 'xdp' }).exitCode, 0);
  const r = vmVerifyCommand({ prog: text('r0 = *(u32 *)(r1 + 32)\nexit\n'), type: 'xdp' });
  assert.equal(r.exitCode, 1);
  assert.match(r.output, /REJECT prog\n.*rejected at pc 0: \(61\) r0 = \*\(u32 \*\)\(r1 \+32\)\n\s+reason: invalid context access: offset 32 is outside struct xdp_md/);
  assert.equal(vmVerifyCommand({ prog: text('r0 = = 1') }).exitCode, 2);
  const obj = readFileSync(join(ROOT, 'src/tools/syscount/syscount.bpf.o'));
  const v = vmVerifyCommand({ prog: new Uint8Array(obj) });
  assert.equal(v.exitCode, 0, v.output);
  assert.match(v.output, /ACCEPT sys_enter/);
});

test('malformed programs and objects: a clear error, never a crash or hang', () => {
  const obj = new Uint8Array(readFileSync(join(ROOT, 'src/tools/syscount/syscount.bpf.o')));
  const g = new Rng(99);
  const inputs: Uint8Array[] = [new Uint8Array(0), Uint8Array.from([1, 2, 3]), obj.subarray(0, 64), obj.subarray(0, obj.length / 2)];
  for (let k = 0; k < 150; k++) {
    const m = obj.slice();
    for (let f = 0; f < 1 + g.int(8); f++) m[g.int(m.length)] = g.int(256);
    inputs.push(m);
    inputs.push(Uint8Array.from({ length: 8 * (1 + g.int(20)) }, () => g.int(256)));
  }
  let errors = 0;
  for (const input of inputs) {
    try {
      const vm = Vm.loadSync(input);
      for (const name of vm.programs) {
        const v = vm.verify(name, { complexityLimit: 100_000 });
        assert.ok(v.ok || v.reason, 'a rejection names its reason');
      }
    } catch (e) {
      assert.ok(e instanceof Error && e.message.length > 0, `non-Error thrown: ${String(e)}`);
      assert.ok(!(e instanceof RangeError || e instanceof TypeError), `internal error on malformed input: ${(e as Error).stack}`);
      errors++;
    }
  }
  assert.ok(errors > 10);
});

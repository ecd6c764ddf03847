// The tools' own committed objects in the VM: every program verifies, and a tracepoint program runs
// on synthetic events and fills its maps as in the kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Vm } from '../../src/vm/vm.js';

const ROOT = (() => {
  const here = new URL('.', import.meta.url).pathname;
  return here.includes('/dist/') ? join(here, '../../..') : join(here, '../..');
})();

function toolObjects(): string[] {
  const dir = join(ROOT, 'src/tools');
  return readdirSync(dir)
    .filter((d) => statSync(join(dir, d)).isDirectory())
    .flatMap((d) => readdirSync(join(dir, d)).filter((f) => f.endsWith('.bpf.o')).map((f) => join(dir, d, f)));
}

test("every program of the tools' objects passes tsbpf's verifier", () => {
  const objs = toolObjects();
  assert.ok(objs.length >= 5, `found only ${objs.length} tool objects`);
  let programs = 0;
  for (const o of objs) {
    const vm = Vm.loadSync(new Uint8Array(readFileSync(o)), { verify: false });
    for (const name of vm.programs) {
      const r = vm.verify(name);
      assert.ok(r.ok, `${o}: ${name}\n${r.messages.join('\n')}`);
      programs++;
    }
  }
  assert.ok(programs >= 10);
});

test('syscount: sys_exit counts syscalls per id in the VM, on both engines', () => {
  for (const engine of ['interp', 'jit'] as const) {
    const vm = Vm.loadSync(new Uint8Array(readFileSync(join(ROOT, 'src/tools/syscount/syscount.bpf.o'))), { engine });
    vm.rt.task = { pid: 42, tgid: 42, uid: 0, gid: 0, comm: 'worker', cgroupId: 1n };
    // struct trace_event_raw_sys_exit { struct trace_entry ent; long id; long ret; }
    const event = (id: number, ret: number): Uint8Array => {
      const b = new Uint8Array(24);
      const v = new DataView(b.buffer);
      v.setBigInt64(8, BigInt(id), true);
      v.setBigInt64(16, BigInt(ret), true);
      return b;
    };
    for (const id of [0, 1, 1, 59, 1, -1]) assert.equal(vm.run('sys_exit', event(id, 0)).r0, 0n);
    const data = vm.maps.get('data')!;
    const count = (id: number): bigint | undefined => {
      const v = data.get(new Uint8Array(new Uint32Array([id]).buffer));
      return v && new DataView(v.buffer).getBigUint64(0, true);
    };
    assert.equal(count(1), 3n, engine);
    assert.equal(count(0), 1n);
    assert.equal(count(59), 1n);
    assert.equal([...data.entries()].length, 3, 'id -1 is ignored');
  }
});

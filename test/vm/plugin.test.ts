// Node applications running verified eBPF programs as plugins on their own events, the context
// described by the object's BTF.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileBpf } from '../../src/build/clang.js';
import { Vm } from '../../src/vm/vm.js';
import { MULTIARCH_INCLUDE } from './clang-include.js';
import { needsCommand } from '../helpers/kernel.js';

function fixture(name: string): string {
  const here = new URL('.', import.meta.url).pathname;
  return here.includes('/dist/') ? join(here, '../../../test/vm/fixtures', name) : join(here, 'fixtures', name);
}

test('a clang-built plugin runs on host events described by BTF, on both engines', async (t) => {
  if (!needsCommand(t, 'clang')) return;
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-plugin-'));
  try {
    const obj = compileBpf(fixture('plugin.bpf.c'), { output: join(dir, 'plugin.bpf.o'), includeDirs: [MULTIARCH_INCLUDE] });
    const bytes = new Uint8Array(readFileSync(obj));
    // Verification needs the context size, which the BTF gives: load without, verify in hookBtf.
    const vm = await Vm.load(bytes, { verify: false });
    const onEvent = vm.hookBtf('score', 'struct event');
    for (const engine of ['interp', 'jit'] as const) {
      const a = onEvent({ pid: 7, bytes: 600, flags: 0 }, { engine });
      assert.equal(a.r0, 0n);
      assert.equal(a.ctx.score, 1800n);
      const b = onEvent({ pid: 7, bytes: 600, flags: 0 }, { engine });
      assert.equal(b.r0, 1n, `${engine}: the total passed 1000`);
      assert.equal(onEvent({ pid: 8, bytes: 1, flags: 1 }, { engine }).r0, 1n);
      vm.maps.get('totals')!.delete(new Uint8Array([7, 0, 0, 0]));
      vm.maps.get('totals')!.delete(new Uint8Array([8, 0, 0, 0]));
    }
    // A plugin that reads past its context is refused before it ever runs.
    assert.throws(() => vm.hook('score', { pid: [0, 4] }, 8), /rejected by the verifier[\s\S]*outside the 8-byte context/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// The helper registry: generated from this machine's linux/bpf.h (scripts/gen-uapi.js), and current;
// names and ids agree both ways and with the kernel's numbering of a few well-known helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BpfFunc, helperId, helperName, maxHelperId } from '../../src/isa/helpers.js';
import { HELPER_PROTOS } from '../../src/vm/helpers.js';
import { BpfFlag } from '../../src/uapi/bpf.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

test('src/uapi/bpf.ts is what scripts/gen-uapi.js makes of linux/bpf.h', (t) => {
  if (!existsSync('/usr/include/linux/bpf.h')) return t.skip('no /usr/include/linux/bpf.h (linux-libc-dev)');
  const r = spawnSync(process.execPath, [`${root}/scripts/gen-uapi.js`, '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

test('helper names and ids, both ways, as the kernel numbers them', () => {
  assert.equal(BpfFunc.map_lookup_elem, 1);
  assert.equal(BpfFunc.tail_call, 12);
  assert.equal(BpfFunc.ringbuf_output, 130);
  assert.equal(helperId('bpf_get_current_pid_tgid'), 14);
  assert.equal(helperId('get_current_pid_tgid'), 14);
  assert.equal(helperName(130), 'bpf_ringbuf_output');
  assert.equal(helperId('unspec'), undefined);
  for (const notOne of ['bpf_1', 'toString', 'constructor', '__proto__', 'bpf_no_such']) assert.equal(helperId(notOne), undefined, notOne);
  assert.equal(helperName(maxHelperId() + 1), undefined);
  for (let id = 1; id <= maxHelperId(); id++) {
    const name = helperName(id);
    if (name) assert.equal(helperId(name), id);
  }
});

test("the VM's helpers are the registry's, by name", () => {
  for (const [id, proto] of HELPER_PROTOS) assert.equal(helperName(id), `bpf_${proto.name}`);
});

test("BPF_F_* flags of linux/bpf.h's anonymous enums, by name, with the values of their C expressions", () => {
  assert.equal(BpfFlag.USER_STACK, 1 << 8); // (1ULL << 8)
  assert.equal(BpfFlag.MARK_MANGLED_0, 0x20);
  assert.equal(BpfFlag.INGRESS, 1);
  assert.equal(BpfFlag.CURRENT_CPU, 0xffffffff); // = BPF_F_INDEX_MASK
  assert.equal(BpfFlag.CTXLEN_MASK, 0xfffff * 2 ** 32); // (0xfffffULL << 32)
  assert.equal(BpfFlag.CURRENT_NETNS, -1); // (-1L)
  assert.equal(BpfFlag.MMAPABLE, 1 << 10);
  assert.equal(BpfFlag.LOCK, 4);
});

// The kernel ABI layouts committed in src/uapi/ (bpf-abi.ts, perf-abi.ts), generated from BTF by
// scripts/gen-abi.js, checked against the running kernel's BTF: every field the kernel has sits at
// the committed offset with the committed size, sign and bits (the kernel matrix runs this on 6.1
// and 6.12 too: fields newer than the guest are absent there, never moved). On the kernel the files
// were generated from, they are regenerated and must equal what is committed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { parseBtf } from '../../src/btf/parse.js';
import { fieldLayout, type FieldLayout } from '../../src/btf/layout.js';
import { BtfKind, isComposite } from '../../src/btf/types.js';
import type { Btf } from '../../src/btf/btf.js';
import type { Layout } from '../../src/uapi/layout.js';
import * as bpfAbi from '../../src/uapi/bpf-abi.js';
import * as perfAbi from '../../src/uapi/perf-abi.js';
import { repoPath } from '../helpers/objects.js';

const VMLINUX = '/sys/kernel/btf/vmlinux';

function kernelBtf(t: { skip(msg: string): void }): Btf | undefined {
  if (!existsSync(VMLINUX)) {
    t.skip('no kernel BTF');
    return undefined;
  }
  return parseBtf(new Uint8Array(readFileSync(VMLINUX)));
}

/** Differences between a committed layout and the kernel's; fields the kernel lacks go to `absent`. */
function compare(what: string, committed: Layout, kernel: FieldLayout[], absent: string[]): string[] {
  const byPath = new Map(kernel.map((f) => [f.path, f]));
  const out: string[] = [];
  for (const [path, f] of Object.entries(committed.fields)) {
    // reserved room is what later kernels carve new fields from (perf_event_attr.__reserved_3 is a
    // u32 in 6.1, 29 bits of one in 6.18): only the fields around it hold still
    if (/(^|\.)__reserved/.test(path)) continue;
    const k = byPath.get(path);
    if (!k) {
      absent.push(`${what}.${path}`);
      continue;
    }
    const want = { offset: k.offset, size: k.size, signed: k.signed ?? false, bit: k.bit, bits: k.bits };
    const have = { offset: f.offset, size: f.size, signed: f.signed ?? false, bit: f.bit, bits: f.bits };
    if (JSON.stringify(want) !== JSON.stringify(have)) out.push(`${what}.${path}: committed ${JSON.stringify(have)}, kernel ${JSON.stringify(want)}`);
  }
  return out;
}

interface Generator {
  generateAbi(btf: Btf, release: string): Record<string, string>;
  /** union bpf_attr's anonymous members: the name the generator gives each, and its first field */
  ANONYMOUS: [name: string, firstField: string][];
}
const generator = async (): Promise<Generator> => (await import(repoPath('scripts/gen-abi.js'))) as Generator;

/** union bpf_attr's member in this kernel: a named one by name, an anonymous one by its first field. */
function attrMember(btf: Btf, name: string, anonymous: Map<string, string>): FieldLayout[] | undefined {
  const u = btf.findByName('bpf_attr', BtfKind.UNION);
  assert.ok(u && isComposite(u), 'union bpf_attr in kernel BTF');
  const first = anonymous.get(name);
  for (const m of u.members) {
    if (first === undefined ? m.name !== name : m.name !== '') continue;
    const fields = fieldLayout(btf, m.type);
    if (first === undefined || fields[0]?.path === first) return fields;
  }
  return undefined;
}

test('committed ABI layouts match the running kernel', async (t) => {
  const btf = kernelBtf(t);
  if (!btf) return;
  const anonymous = new Map((await generator()).ANONYMOUS);
  const mismatches: string[] = [];
  const absent: string[] = [];
  let checked = 0;
  const { bpf_attr, ...structs } = { ...bpfAbi, ...perfAbi };
  for (const [name, member] of Object.entries(bpf_attr)) {
    if (typeof member === 'number') continue;
    const kernel = attrMember(btf, name, anonymous);
    if (!kernel) {
      absent.push(`bpf_attr.${name}`);
      continue;
    }
    mismatches.push(...compare(`bpf_attr.${name}`, member, kernel, absent));
    checked += Object.keys(member.fields).length;
  }
  for (const [name, layout] of Object.entries(structs)) {
    const s = btf.findByName(name, BtfKind.STRUCT);
    if (!s) {
      absent.push(name);
      continue;
    }
    mismatches.push(...compare(name, layout, fieldLayout(btf, s.id), absent));
    checked += Object.keys(layout.fields).length;
  }
  assert.deepEqual(mismatches, []);
  assert.ok(checked > 300, `only ${checked} fields checked`);
  // the fields tsbpf itself sets or reads exist on every kernel it supports (5.x and later)
  for (const used of ['bpf_attr.prog_load.attach_btf_id', 'bpf_attr.link_create.target_btf_id', 'bpf_prog_info.attach_btf_id', 'bpf_map_info.map_extra']) {
    assert.ok(!absent.includes(used), `${used} missing on this kernel`);
  }
  if (absent.length) t.diagnostic(`newer than this kernel: ${absent.join(', ')}`);
});

test('a field moved in the committed layout is reported', (t) => {
  const btf = kernelBtf(t);
  if (!btf) return;
  const s = btf.findByName('bpf_map_info', BtfKind.STRUCT)!;
  const moved: Layout = { sizeof: 0, fields: { ...bpfAbi.bpf_map_info.fields, key_size: { offset: 12, size: 4 } } };
  const out = compare('bpf_map_info', moved, fieldLayout(btf, s.id), []);
  assert.deepEqual(out, ['bpf_map_info.key_size: committed {"offset":12,"size":4,"signed":false}, kernel {"offset":8,"size":4,"signed":false}']);
});

test('the committed layouts are what scripts/gen-abi.js makes of the kernel they name', async (t) => {
  const btf = kernelBtf(t);
  if (!btf) return;
  const release = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  const committed = readFileSync(repoPath('src/uapi/bpf-abi.ts'), 'utf8');
  const from = /from the BTF of Linux (\S+):/.exec(committed)?.[1];
  if (from !== release) {
    t.skip(`generated from Linux ${from}, this is ${release}`);
    return;
  }
  const { generateAbi } = await generator();
  for (const [path, text] of Object.entries(generateAbi(btf, release))) {
    assert.equal(readFileSync(repoPath(path), 'utf8'), text, `${path} is stale: run node scripts/gen-abi.js`);
  }
});

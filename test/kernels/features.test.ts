// Feature probes give each kernel's true answer. The truth comes from outside the probes: the
// kernel's own build configuration (/proc/config.gz or /boot/config-*, as on an installed kernel),
// and, inside the kernel matrix's guests (TSBPF_GUEST_KERNEL), what is known of Debian's 6.1 and
// 6.12 kernels: both have kprobes and fentry; 6.1 has no CONFIG_FPROBE (no kprobe.multi) and
// predates uprobe.multi and tcx (6.6).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as features from '../../src/kernel/features.js';
import { ownedFds } from '../../src/sys/fds.js';
import { kernelConfig, kernelVersionCode } from '../../src/kernel/kconfig.js';
import { MapType, ProgramType } from '../../src/uapi/bpf.js';
import { Errno } from '../../src/sys/errors.js';
import { inCI, needsRoot } from '../helpers/kernel.js';

const GUESTS: Record<string, Record<string, boolean>> = {
  '6.1': { kprobes: true, fentry: true, kprobeMulti: false, uprobeMulti: false, tcx: false },
  '6.12': { kprobes: true, fentry: true, kprobeMulti: true, uprobeMulti: true, tcx: true },
};

test('feature probes agree with what is known of this kernel (the matrix guests), and with its config', (t) => {
  if (!needsRoot(t)) return;
  const got: Record<string, boolean> = {
    kprobes: features.hasKprobes(), fentry: features.fentry().ok, kprobeMulti: features.kprobeMulti().ok,
    uprobeMulti: features.uprobeMulti().ok, tcx: features.tcx().ok,
  };
  t.diagnostic(JSON.stringify(got));
  const guest = process.env.TSBPF_GUEST_KERNEL;
  if (guest) assert.deepEqual(got, GUESTS[guest], `the probes of the ${guest} guest`);
  const cfg = kernelConfig();
  if (cfg.size === 0) {
    // nothing to compare with; under CI the matrix guests and the host both expose their config
    assert.ok(!inCI || !guest, 'a guest kernel without its config');
    return;
  }
  const y = (k: string): boolean => cfg.get(k) === 'y';
  assert.equal(got.kprobes, y('CONFIG_KPROBES') && y('CONFIG_KPROBE_EVENTS'), 'kprobes ⇔ CONFIG_KPROBES, CONFIG_KPROBE_EVENTS');
  if (got.kprobeMulti) assert.ok(y('CONFIG_FPROBE'), 'kprobe.multi needs CONFIG_FPROBE');
  else if (got.kprobes && kernelVersionCode() >= (5 << 16) + (18 << 8)) assert.ok(!y('CONFIG_FPROBE'), 'kprobes and CONFIG_FPROBE, but no kprobe.multi');
  const v66 = kernelVersionCode() >= (6 << 16) + (6 << 8);
  assert.equal(got.tcx, v66 && y('CONFIG_NET_XGRESS'), 'tcx ⇔ 6.6+ with CONFIG_NET_XGRESS');
  assert.equal(got.uprobeMulti, v66 && y('CONFIG_UPROBES'), 'uprobe.multi ⇔ 6.6+ with CONFIG_UPROBES');
  if (got.fentry) assert.ok(y('CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS'), 'fentry needs ftrace direct calls');
});

test('feature probes on this kernel: the basics every kernel here has, and probes close what they open', (t) => {
  if (!needsRoot(t)) return;
  const before = ownedFds().size;
  assert.equal(features.btf().ok, true);
  assert.equal(features.hasRingBuffer(), true);
  assert.equal(features.programType(ProgramType.TRACEPOINT).ok, true);
  assert.equal(features.programType(ProgramType.XDP).ok, true);
  assert.equal(features.programType(ProgramType.SOCKET_FILTER).ok, true);
  assert.equal(features.mapType(MapType.HASH).ok, true);
  assert.equal(features.mapType(MapType.LPM_TRIE).ok, true);
  assert.equal(features.mapType(MapType.ARRAY_OF_MAPS).ok, true);
  assert.equal(features.mapType(MapType.QUEUE).ok, true);
  assert.equal(features.mapType(9999 as MapType).ok, false);
  assert.equal(features.programType(9999 as ProgramType).ok, false);
  assert.equal(features.helper(ProgramType.TRACEPOINT, 14 /* get_current_pid_tgid */).ok, true);
  assert.equal(features.helper(ProgramType.SCHED_CLS, 9 /* skb_store_bytes */).ok, true);
  assert.equal(features.helper(ProgramType.SOCKET_FILTER, 9).ok, false);
  assert.equal(features.helper(ProgramType.SOCKET_FILTER, 100000).ok, false);
  assert.equal(features.perfEventLink().ok, true);
  assert.equal(features.hasUprobePmu(), true);
  assert.equal(features.hasKprobePmu(), existsSync('/sys/bus/event_source/devices/kprobe'));
  // fentry is refused with EPERM where the kernel does not permit it (this project's development VM)
  const f = features.fentry();
  if (!f.ok) assert.ok(f.errno === Errno.EPERM || f.errno === Errno.ENOENT, `fentry errno ${f.errno}`);
  // cached: same object
  assert.equal(features.fentry(), f);
  const all = features.probeAll();
  assert.equal(all.kprobePmu, features.hasKprobePmu());
  assert.equal(ownedFds().size, before, 'probes close what they open');
});

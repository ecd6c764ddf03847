import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as features from '../../src/sys/features.js';
import { ownedFds } from '../../src/sys/fds.js';
import { MapType, ProgramType } from '../../src/uapi/bpf.js';
import { needsRoot } from '../helpers/kernel.js';

test('feature probes on this kernel (tracepoint, XDP, ring buffer, BTF ok; kprobes missing; fentry EPERM)', (t) => {
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
  // On this VM CONFIG_KPROBES is off and fentry is not permitted (EPERM); elsewhere they may work.
  const f = features.fentry();
  if (!f.ok) assert.ok(f.errno === 1 || f.errno === 2, `fentry errno ${f.errno}`);
  // cached: same object
  assert.equal(features.fentry(), f);
  const all = features.probeAll();
  assert.equal(all.kprobePmu, features.hasKprobePmu());
  assert.equal(ownedFds().size, before, 'probes close what they open');
});

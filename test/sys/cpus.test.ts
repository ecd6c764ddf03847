import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { onlineCpus, parseCpuList, possibleCpuCount, possibleCpus } from '../../src/sys/cpus.js';
import { parseMounts, ensureBpffs, ensureTracefs, mounts } from '../../src/sys/mounts.js';
import { pageSize } from '../../src/sys/pagesize.js';
import { needsRoot } from '../helpers/kernel.js';

test('CPU lists: ranges, singles, mixed; bad input throws', () => {
  assert.deepEqual(parseCpuList('0\n'), [0]);
  assert.deepEqual(parseCpuList('0-3'), [0, 1, 2, 3]);
  assert.deepEqual(parseCpuList('0-1,4,6-7'), [0, 1, 4, 6, 7]);
  assert.deepEqual(parseCpuList(''), []);
  assert.throws(() => parseCpuList('a-b'), /bad CPU list/);
  assert.throws(() => parseCpuList('3-1'), /bad CPU range/);
});

test('this machine: possible and online CPUs, page size', () => {
  const possible = possibleCpus();
  assert.ok(possible.length >= 1);
  assert.equal(possibleCpuCount(), possible[possible.length - 1]! + 1);
  assert.deepEqual(onlineCpus(), parseCpuList(readFileSync('/sys/devices/system/cpu/online', 'utf8')));
  assert.ok([4096, 16384, 65536].includes(pageSize()));
});

test('mount table parsing, with escaped spaces', () => {
  const m = parseMounts('bpf /sys/fs/bpf bpf rw 0 0\n/dev/sda1 /mnt/my\\040disk ext4 rw 0 0\n\n');
  assert.deepEqual(m, [
    { source: 'bpf', target: '/sys/fs/bpf', fstype: 'bpf' },
    { source: '/dev/sda1', target: '/mnt/my disk', fstype: 'ext4' },
  ]);
});

test('bpffs and tracefs are found (mounted if missing)', (t) => {
  if (!needsRoot(t)) return;
  assert.equal(ensureBpffs(), '/sys/fs/bpf');
  assert.ok(['/sys/kernel/tracing', '/sys/kernel/debug/tracing'].includes(ensureTracefs()));
  assert.ok(mounts().some((x) => x.fstype === 'bpf'));
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTracepointFormat, TracepointFormatError } from '../../src/tracefs/format.js';
import { tracepointExists, tracepointFormat, tracepointId, tracepoints } from '../../src/tracefs/tracefs.js';
import { needsRoot } from '../helpers/kernel.js';

const OPENAT = `name: sys_enter_openat
ID: 782
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:int __syscall_nr;	offset:8;	size:4;	signed:1;
	field:int dfd;	offset:16;	size:8;	signed:0;
	field:const char * filename;	offset:24;	size:8;	signed:0;
	field:__data_loc char[] comm;	offset:32;	size:4;	signed:0;
	field:__u8 daddr[4];	offset:36;	size:4;	signed:0;

print fmt: "dfd: 0x%08lx", ((unsigned long)(REC->dfd))
`;

test('parses fields: types, offsets, sizes, signedness, arrays, __data_loc, pointers', () => {
  const f = parseTracepointFormat(OPENAT);
  assert.equal(f.name, 'sys_enter_openat');
  assert.equal(f.id, 782);
  assert.equal(f.allFields.length, 9);
  assert.deepEqual(f.fields.map((x) => x.name), ['__syscall_nr', 'dfd', 'filename', 'comm', 'daddr']);
  const byName = Object.fromEntries(f.allFields.map((x) => [x.name, x]));
  assert.deepEqual(byName.common_pid, { name: 'common_pid', ctype: 'int', offset: 4, size: 4, signed: true, arrayLen: undefined, dataLoc: false, pointer: false });
  assert.equal(byName.filename!.ctype, 'const char *');
  assert.equal(byName.filename!.pointer, true);
  assert.equal(byName.comm!.dataLoc, true);
  assert.equal(byName.comm!.ctype, 'char');
  assert.equal(byName.daddr!.arrayLen, 4);
  assert.equal(f.printFmt, '"dfd: 0x%08lx", ((unsigned long)(REC->dfd))');
});

test('malformed, truncated and fuzzed format text gives TracepointFormatError, never a crash or hang', () => {
  assert.throws(() => parseTracepointFormat(''), TracepointFormatError);
  assert.throws(() => parseTracepointFormat('name: x\n'), TracepointFormatError);
  assert.throws(() => parseTracepointFormat('name: x\nID: 1\n\tfield:int;\toffset:0;\tsize:4;\tsigned:1;\n'), TracepointFormatError);
  assert.throws(() => parseTracepointFormat('name: x\nID: 1\n\tfield:int a;\toffset:zz;\n'), TracepointFormatError);
  for (let n = 0; n < OPENAT.length; n += 7) {
    try {
      parseTracepointFormat(OPENAT.slice(0, n));
    } catch (e) {
      assert.ok(e instanceof TracepointFormatError, String(e));
    }
  }
  let seed = 3;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  const chars = ':;[]\t\n *_0aZ';
  for (let i = 0; i < 500; i++) {
    const a = OPENAT.split('');
    for (let j = 0; j < 6; j++) a[rnd() % a.length] = chars[rnd() % chars.length]!;
    try {
      parseTracepointFormat(a.join(''));
    } catch (e) {
      assert.ok(e instanceof TracepointFormatError, String(e));
    }
  }
  const huge = `name: x\nID: 1\n${'\tfield:int a;\toffset:0;\tsize:4;\tsigned:1;\n'.repeat(20000)}`;
  assert.equal(parseTracepointFormat(huge).fields.length, 20000);
});

test('real tracefs: ids, formats and listings agree with the kernel', (t) => {
  if (!needsRoot(t)) return;
  const id = tracepointId('sched', 'sched_process_exec');
  const f = tracepointFormat('sched', 'sched_process_exec');
  assert.equal(f.id, id);
  assert.deepEqual(f.fields.map((x) => x.name), ['filename', 'pid', 'old_pid']);
  assert.ok(tracepoints().includes('syscalls'));
  assert.ok(tracepoints('sched').includes('sched_switch'));
  assert.equal(tracepointExists('sched', 'sched_switch'), true);
  assert.equal(tracepointExists('sched', 'nope'), false);
  assert.equal(tracepointExists('../x', 'y'), false);
  // every syscalls format parses
  for (const name of tracepoints('syscalls').slice(0, 200)) tracepointFormat('syscalls', name);
});

// Type-level tests of the generated types (checked by tsc when the tests are built: a failed
// expectation or an unused @ts-expect-error fails `npm run build`), and of the typed loader's layout
// against the object it was generated from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { expectTypeOf } from 'expect-type';
import { Collection, type DecodedRecord } from '../../src/kernel/collection.js';
import type { BpfMap } from '../../src/maps/map.js';
import type { RingBuffer } from '../../src/maps/ringbuf.js';
import type { PerfBuffer } from '../../src/maps/perfbuf.js';
import type { Program } from '../../src/kernel/program.js';
import { parseObject } from '../../src/object/load-spec.js';
import { TcpconnectObjects, type Event, type Ipv4FlowKey } from '../../src/tools/tcpconnect/tcpconnect.gen.js';
import { mapProperties, type LoadConstantsOf, type ProgramOf } from '../../src/kernel/typed.js';
import { toolObjectPath } from '../../src/tools/common/object.js';

/** Never called: its body only has to type-check (or fail to, where marked). */
function typeLevel(objs: TcpconnectObjects, coll: Collection): void {
  expectTypeOf(objs.maps.ipv4_count).toEqualTypeOf<BpfMap<Ipv4FlowKey, bigint>>();
  expectTypeOf(objs.maps.pending).toEqualTypeOf<BpfMap<bigint, number>>();
  expectTypeOf(objs.maps.rodata.get(0)!.targ_pid).toEqualTypeOf<number>();
  expectTypeOf(objs.ringBuffer('events')).toEqualTypeOf<RingBuffer<Event>>();
  expectTypeOf(objs.programs.kprobe_tcp_v4_connect).toEqualTypeOf<Program>();
  expectTypeOf<Event['comm']>().toEqualTypeOf<string>();
  expectTypeOf<Event['saddr']>().toEqualTypeOf<number[]>();
  expectTypeOf<Event['ts_us']>().toEqualTypeOf<bigint>();
  objs.maps.ipv4_count.get({ saddr: 1, daddr: 2, dport: 80, pad: 0 });
  // @ts-expect-error a key of the wrong type does not compile
  objs.maps.ipv4_count.get(42);
  // @ts-expect-error nor does a key with a member missing
  objs.maps.ipv4_count.get({ saddr: 1, daddr: 2, dport: 80 });
  // @ts-expect-error nor a value of the wrong type
  objs.maps.ipv4_count.set({ saddr: 1, daddr: 2, dport: 80, pad: 0 }, 'many');
  // @ts-expect-error nor a map the object does not have
  void objs.maps.counts;
  // @ts-expect-error nor a program it does not have
  void objs.programs.kprobe_tcp_connect;
  // @ts-expect-error nor a buffer that is not one
  objs.ringBuffer('ipv4_count');
  TcpconnectObjects.load('x.bpf.o', { constants: { targ_pid: 1, filter_ports: [80, 443], targ_cgroup_id: 5n, want_sport: false }, programs: ['fexit_tcp_v4_connect'] });
  // @ts-expect-error a constant the object does not have
  TcpconnectObjects.load('x.bpf.o', { constants: { target_pid: 1 } });
  // @ts-expect-error a constant of the wrong type
  TcpconnectObjects.load('x.bpf.o', { constants: { targ_pid: 'init' } });
  // @ts-expect-error a program the object does not have
  TcpconnectObjects.load('x.bpf.o', { programs: ['kprobe_tcp_connect'] });
  expectTypeOf<LoadConstantsOf<typeof TcpconnectObjects>['do_count']>().toEqualTypeOf<boolean | undefined>();
  // @ts-expect-error a static local is not the object's to set
  TcpconnectObjects.load('x.bpf.o', { constants: { 'count_flow.one': 2n } });
  expectTypeOf<ProgramOf<typeof TcpconnectObjects>>().toEqualTypeOf<'btf_inet_sock_set_state' | 'tp_inet_sock_set_state' | 'kprobe_tcp_v4_connect' | 'kretprobe_tcp_v4_connect' | 'kprobe_tcp_v6_connect' | 'kretprobe_tcp_v6_connect' | 'fexit_tcp_v4_connect' | 'fexit_tcp_v6_connect'>();
  // the data sections' maps, derived from the section types
  expectTypeOf<keyof TcpconnectObjects['maps']>().toEqualTypeOf<(typeof TCPCONNECT_MAPS)[number]>();
  expectTypeOf(objs.maps.bss.get(0)!.unused_event).toEqualTypeOf<bigint>();

  // Collection's own buffers: decoded records when a type is given, bytes when not
  expectTypeOf(coll.ringBuffer('events')).toEqualTypeOf<RingBuffer<Uint8Array>>();
  expectTypeOf(coll.ringBuffer('events', { type: 'struct event' })).toEqualTypeOf<RingBuffer<DecodedRecord>>();
  expectTypeOf(coll.ringBuffer<Event>('events', { type: 'struct event' })).toEqualTypeOf<RingBuffer<Event>>();
  expectTypeOf(coll.perfBuffer('events')).toEqualTypeOf<PerfBuffer<Uint8Array>>();
  expectTypeOf(coll.perfBuffer('events', { type: 1 })).toEqualTypeOf<PerfBuffer<DecodedRecord>>();
  // @ts-expect-error a type argument without a type to decode with would be a lie
  coll.ringBuffer<Event>('events');
}
void typeLevel;

/** The properties the generated TcpconnectMaps types, as the loader finds them in the object (checked both ways). */
const TCPCONNECT_MAPS = ['drops', 'events', 'sport_drops', 'pending', 'inflight', 'ipv4_count', 'ipv6_count', 'rodata', 'bss'] as const;

test('a generated layout names the programs of the object it came from; its maps are the object\'s, as typed', () => {
  const spec = parseObject(new Uint8Array(readFileSync(toolObjectPath('tcpconnect'))), 'tcpconnect');
  const { layout } = TcpconnectObjects;
  assert.deepEqual(mapProperties(spec.maps), [...TCPCONNECT_MAPS.slice(0, -2).map((m) => [m, m]), ['rodata', '.rodata'], ['bss', '.bss']]);
  assert.deepEqual([...layout.programs], spec.programs.map((p) => p.name));
  assert.deepEqual(layout.records, { events: { type: 'struct event' } });
});

import { Collection } from '../../src/index.js';
import { TcpconnectObjects } from '../../src/tools/tcpconnect/tcpconnect.gen.js'; // tsbpf gen types tcpconnect.bpf.o -o tcpconnect.gen.ts

using objs = TcpconnectObjects.load('tcpconnect.bpf.o', { constants: { targ_pid: 1234 } }); // maps, CO-RE, verifier
objs.attach();                                   // every program where its SEC() says
objs.maps.ipv4_count.get({ saddr: 0, daddr: 0, dport: 80, pad: 0 }); // BpfMap<Ipv4FlowKey, bigint>
for await (const e of objs.ringBuffer('events')) console.log(e.pid, e.comm); // e: Event, from BTF

// without generated types: records decoded by BTF type name (raw bytes without one), maps keyed as BTF says
using coll = Collection.load('tool.bpf.o', { constants: { targ_pid: 1234 } });
coll.attach();
for await (const e of coll.ringBuffer('events', { type: 'struct event' })) console.log(e.pid, e.comm);
coll.map('counts').get(42);

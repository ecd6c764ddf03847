// tcplife and tcpstates against this kernel: a child opens a TCP session to a local echo-ish server,
// sends and receives known byte counts, closes; the session and its state changes are reported.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { TcplifeTracer } from '../../src/tools/tcplife/index.js';
import { TcpstatesTracer } from '../../src/tools/tcpstates/index.js';
import { needsRoot } from '../helpers/kernel.js';
import { startChild, collectUntil, assertReleased, sleep } from './workload.js';

const SEND = 100000;
const REPLY = 30000;

/** A server that reads SEND bytes, answers REPLY bytes, then waits for the client to close. */
async function server(host: string): Promise<{ srv: net.Server; port: number }> {
  const srv = net.createServer((s) => {
    let got = 0;
    s.on('data', (d) => {
      got += d.length;
      if (got === SEND) s.write(Buffer.alloc(REPLY, 1));
    });
    s.on('error', () => {});
    s.on('end', () => s.end());
  });
  await new Promise<void>((r) => srv.listen(0, host, () => r()));
  return { srv, port: (srv.address() as net.AddressInfo).port };
}

const SESSION = `
const net = require('net');
return await new Promise((res) => {
  let lport;
  const s = net.connect({ host: args.host, port: args.port }, () => { lport = s.localPort; s.write(Buffer.alloc(args.send, 2)); });
  let got = 0;
  s.on('data', (d) => { got += d.length; if (got === args.reply) s.end(); });
  s.on('close', () => res({ lport, got }));
});
`;

for (const host of ['127.0.0.1', '::1']) {
  test(`tcplife (${host}): lifetime and bytes of a session, from the client`, async (t) => {
    if (!needsRoot(t)) return;
    const { srv, port } = await server(host);
    const tracer = await TcplifeTracer.open({ remotePorts: [port] });
    const ids = tracer.kernelIds();
    try {
      const child = await startChild('tl-client', SESSION, { host, port, send: SEND, reply: REPLY });
      const ac = new AbortController();
      const seen = collectUntil(tracer.events(ac.signal), (l) => l.some((e) => e.pid === child.pid), 8000, ac);
      await sleep(50);
      const t0 = Date.now();
      child.go();
      const r: { lport: number; got: number } = await child.result;
      const wall = Date.now() - t0;
      const s = (await seen).find((e) => e.pid === child.pid)!;
      assert.ok(s, 'session reported');
      assert.equal(r.got, REPLY);
      assert.equal(s.comm, 'tl-client');
      assert.equal(s.af, host === '::1' ? 6 : 4);
      assert.equal(s.saddr, host);
      assert.equal(s.daddr, host);
      assert.equal(s.sport, r.lport);
      assert.equal(s.dport, port);
      // bytes_acked and bytes_received count sequence space: the SYN and FIN take one each
      assert.equal(s.txBytes, SEND + 2, 'bytes sent and acked (+ SYN, FIN)');
      assert.equal(s.rxBytes, REPLY + 1, 'bytes received (+ FIN)');
      assert.ok(s.ms > 0 && s.ms <= wall + 5, `lifetime ${s.ms} ms within the ${wall} ms the child ran`);
    } finally {
      tracer.close();
      srv.close();
    }
    await assertReleased(ids);
  });
}

test('tcpstates: the client socket goes CLOSE -> SYN_SENT -> ESTABLISHED -> ... -> CLOSE', async (t) => {
  if (!needsRoot(t)) return;
  const { srv, port } = await server('127.0.0.1');
  const tracer = await TcpstatesTracer.open({ remotePorts: [port] });
  const ids = tracer.kernelIds();
  try {
    const child = await startChild('ts-client', SESSION, { host: '127.0.0.1', port, send: SEND, reply: REPLY });
    const ac = new AbortController();
    const seen = collectUntil(tracer.events(ac.signal), (l) => l.some((e) => e.newstate === 'CLOSE'), 8000, ac);
    await sleep(50);
    child.go();
    const r: { lport: number } = await child.result;
    const all = await seen;
    // the source port is 0 until connect() picked one: follow the socket by address
    const sk = all.find((e) => e.sport === r.lport)!.skaddr;
    const evs = all.filter((e) => e.skaddr === sk);
    const path = evs.map((e) => `${e.oldstate}->${e.newstate}`);
    assert.deepEqual(path.slice(0, 3), ['CLOSE->SYN_SENT', 'SYN_SENT->ESTABLISHED', 'ESTABLISHED->FIN_WAIT1'], path.join(' '));
    assert.equal(evs.at(-1)!.newstate, 'CLOSE', path.join(' '));
    assert.equal(evs[0]!.pid, child.pid, 'the connecting task');
    assert.equal(evs[0]!.comm, 'ts-client');
    assert.equal(evs[0]!.ms, 0, 'first state of a socket has no previous duration');
    for (const e of evs) {
      assert.equal(e.daddr, '127.0.0.1');
      assert.equal(e.dport, port);
      assert.equal(e.skaddr, evs[0]!.skaddr);
    }
  } finally {
    tracer.close();
    srv.close();
  }
  await assertReleased(ids);
});

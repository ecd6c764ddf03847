// Events over OpenTelemetry: the agent exports connects, execs and long run-queue waits as OTLP log records, and TCP
// sessions as spans, over HTTP with protobuf bodies (the official JS SDK's exporters); the receiver
// here decodes them with code generated from the official OTLP .proto files (protobufjs, as
// published in @opentelemetry/otlp-transformer 0.52), not a parser of ours.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { createServer, type Server } from 'node:http';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { cgroup2Root } from '../../src/tools/common/cgroup.js';
import { needsCommand, needsRoot } from '../helpers/kernel.js';
import { startAgent, writeConfig, runWorkload, eventually, removeCgroupTree, type AgentProcess } from './helpers.js';

const require = createRequire(import.meta.url);
const proto = require('otlp-proto/build/src/generated/root.js').opentelemetry.proto;

type Attrs = Record<string, string | number>;
interface Received {
  logs: { resource: Attrs; attributes: Attrs; body: string; timeNs: bigint }[];
  spans: { resource: Attrs; name: string; attributes: Attrs; startNs: bigint; endNs: bigint }[];
  paths: string[];
}

function attrs(list: { key: string; value: { stringValue?: string; intValue?: { toString(): string }; doubleValue?: number } }[]): Attrs {
  const out: Attrs = {};
  for (const kv of list ?? []) out[kv.key] = kv.value.stringValue ?? (kv.value.intValue !== undefined && kv.value.intValue !== null ? Number(kv.value.intValue.toString()) : kv.value.doubleValue ?? '');
  return out;
}

const ns = (x: { toString(): string }): bigint => BigInt(x.toString());

async function receiver(): Promise<{ server: Server; port: number; got: Received }> {
  const got: Received = { logs: [], spans: [], paths: [] };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      got.paths.push(`${req.url} ${req.headers['content-type']}`);
      if (req.url === '/v1/logs') {
        const m = proto.collector.logs.v1.ExportLogsServiceRequest.decode(body);
        for (const rl of m.resourceLogs) for (const sl of rl.scopeLogs) for (const r of sl.logRecords) got.logs.push({ resource: attrs(rl.resource.attributes), attributes: attrs(r.attributes), body: r.body?.stringValue ?? '', timeNs: ns(r.timeUnixNano) });
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(proto.collector.logs.v1.ExportLogsServiceResponse.encode({}).finish());
      } else if (req.url === '/v1/traces') {
        const m = proto.collector.trace.v1.ExportTraceServiceRequest.decode(body);
        for (const rs of m.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) got.spans.push({ resource: attrs(rs.resource.attributes), name: s.name, attributes: attrs(s.attributes), startNs: ns(s.startTimeUnixNano), endNs: ns(s.endTimeUnixNano) });
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end(proto.collector.trace.v1.ExportTraceServiceResponse.encode({}).finish());
      } else res.writeHead(404).end();
    });
  }).listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  return { server, port: (server.address() as { port: number }).port, got };
}

const ID = '07e1e00d'.repeat(8);

/** Moves into the cgroup, pins itself to CPU 0, forks: both spin 0.6 s there. */
const CONTEND = `
import os, sys, time
open(sys.argv[1] + '/cgroup.procs', 'w').write(str(os.getpid()))
os.sched_setaffinity(0, {0})
child = os.fork()
end = time.time() + 0.6
while time.time() < end: pass
if child: os.waitpid(child, 0)
else: os._exit(0)
`;

test('OTLP: connects and execs as log records, TCP sessions as spans, decoded with the official protos', async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'python3')) return;
  const base = join(cgroup2Root(), `tsbpf-otlp-${process.pid}`);
  const ctr = join(base, `libpod-${ID}.scope`);
  mkdirSync(ctr, { recursive: true });
  const { server, port, got } = await receiver();
  const pinPath = `/sys/fs/bpf/tsbpf-otlp-test-${process.pid}`;
  const config = (signal: string, programs: string) => writeConfig(`listen: 127.0.0.1:0
node: o1
cgroup: ${base}
pinPath: ${pinPath}
programs:
${programs}
otlp: { endpoint: 'http://127.0.0.1:${port}', signal: ${signal}, runqThresholdMs: 2 }
`);
  let agent: AgentProcess | undefined;
  try {
    const startNs = BigInt(Date.now()) * 1_000_000n;
    agent = await startAgent(config('logs', '  - name: connects\n    tool: tcpconnect\n  - name: execs\n    tool: execsnoop\n  - name: runq\n    tool: runqlat\n'));
    const dport = runWorkload({ cgroup: ctr, connects: 2, execs: [['/bin/true', 'otlp-arg']] });
    // two busy tasks of the container on one CPU: each waits for the other's slices
    execFileSync('python3', ['-c', CONTEND, ctr]);
    await eventually(() => got.logs.some((l) => l.attributes['event.name'] === 'sched.runq_wait'), 10_000, 'a long run-queue wait');
    const wait = got.logs.find((l) => l.attributes['event.name'] === 'sched.runq_wait')!;
    assert.ok(Number(wait.attributes['tsbpf.runq_wait_us']) >= 2000, JSON.stringify(wait.attributes));
    assert.equal(wait.attributes['container.id'], ID.slice(0, 12));
    assert.equal(wait.attributes['process.command'], 'python3');
    await eventually(() => got.logs.filter((l) => l.attributes['event.name'] !== 'sched.runq_wait').length >= 3, 10_000, 'three log records');
    const connects = got.logs.filter((l) => l.attributes['event.name'] === 'tcp.connect');
    assert.equal(connects.length, 2, JSON.stringify(got.logs.map((l) => l.attributes)));
    for (const c of connects) {
      assert.equal(c.attributes['network.peer.address'], '127.0.0.1');
      assert.equal(c.attributes['network.peer.port'], dport);
      assert.equal(c.attributes['process.command'], 'python3');
      assert.equal(c.attributes['container.id'], ID.slice(0, 12));
      assert.equal(c.attributes['tsbpf.program'], 'connects');
      assert.equal(c.resource['service.name'], 'tsbpf-agent');
      assert.equal(c.resource['host.name'], 'o1');
      // event time from the kernel's clock, within the test's window
      assert.ok(c.timeNs > startNs - 1_000_000_000n && c.timeNs < BigInt(Date.now()) * 1_000_000n + 1_000_000_000n, String(c.timeNs));
    }
    const exec = got.logs.find((l) => l.attributes['event.name'] === 'process.exec');
    assert.equal(exec?.attributes['process.command_line'], '/bin/true otlp-arg');
    assert.ok(got.paths.every((p) => p === '/v1/logs application/x-protobuf'), got.paths.join());
    assert.equal(await agent.stop(), 0);

    agent = await startAgent(config('traces', '  - name: sessions\n    tool: tcplife\n'));
    runWorkload({ cgroup: ctr, connects: 1, execs: [] });
    // a session ends on both sides: the connecting and the accepting socket, both in the container
    await eventually(() => got.spans.length >= 1, 10_000, 'a span');
    const s = got.spans[0]!;
    assert.equal(s.name, 'tcp.session');
    assert.equal(s.attributes['container.id'], ID.slice(0, 12));
    assert.ok(s.endNs >= s.startNs);
    assert.equal(await agent.stop(), 0);
    agent = undefined;
  } finally {
    await agent?.stop('SIGKILL');
    server.close();
    rmSync(pinPath, { recursive: true, force: true });
    await removeCgroupTree(base);
  }
});

// The agent's config: a good one parses with its defaults; each kind of mistake is refused with the
// line it is on and what would be right.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig, ConfigError } from '../../src/agent/config.js';

const GOOD = `listen: 127.0.0.1:9500
node: n1
labels: { cluster: c1 }
cgroup: /fleet/n1
maxSeries: 200
log: { level: debug }
programs:
  - name: connects
    tool: tcpconnect
    labels: [container, dport]
    options: { ports: [80, 443], family: 4 }
  - name: runq
    tool: runqlat
  - name: counts
    object: /tmp/x.bpf.o
    metrics:
      - name: my_events_total
        type: counter
        map: counts
        labels: [{ name: pid, field: pid }, { name: addr, field: daddr, decoder: inet }]
      - name: my_latency_seconds
        type: histogram
        map: lat
        bucket: { type: log2, slots: slots, unit: 0.000001 }
  - name: opens
    script: 'tracepoint:syscalls:sys_enter_openat { @[comm] = count(); }'
otlp: { endpoint: 'http://127.0.0.1:4318', signal: traces, programs: [connects] }
`;

test('a full config parses, with what it says and the defaults for the rest', () => {
  const c = parseConfig(GOOD, 'a.yaml');
  assert.deepEqual(c.listen, { host: '127.0.0.1', port: 9500 });
  assert.equal(c.node, 'n1');
  assert.deepEqual(c.labels, { cluster: 'c1' });
  assert.equal(c.maxSeries, 200);
  assert.equal(c.logLevel, 'debug');
  assert.equal(c.pinPath, '/sys/fs/bpf/tsbpf/agent');
  assert.equal(c.stats, true);
  assert.deepEqual(c.programs.map((p) => [p.name, p.kind, p.line]), [['connects', 'tool', 8], ['runq', 'tool', 12], ['counts', 'object', 14], ['opens', 'script', 25]]);
  const p0 = c.programs[0]!;
  assert.ok(p0.kind === 'tool');
  assert.deepEqual(p0.options, { ports: [80, 443], family: 4 });
  assert.deepEqual(p0.labels, ['container', 'dport']);
  const obj = c.programs[2]!;
  assert.ok(obj.kind === 'object');
  assert.deepEqual(obj.metrics[0]!.labels, [{ name: 'pid', field: 'pid', decoder: 'uint' }, { name: 'addr', field: 'daddr', decoder: 'inet' }]);
  assert.deepEqual(obj.metrics[1]!.bucket, { type: 'log2', slots: 'slots', unit: 0.000001, min: 0, step: 1 });
  assert.deepEqual(c.otlp, { endpoint: 'http://127.0.0.1:4318', signal: 'traces', programs: ['connects'] });
  assert.deepEqual(parseConfig('programs: []\nlisten: ":9435"\n').listen, { host: '0.0.0.0', port: 9435 });
});

const BAD: [string, number, RegExp][] = [
  ['programs:\n  - name: a\n    tool: tcpconect\n', 3, /programs\[0\]\.tool: 'tcpconect' is not one of tcpconnect, execsnoop/],
  ['programs:\n  - name: a\n    tool: runqlat\n    labels: [comm]\n', 4, /runqlat counts in the kernel/],
  ['programs:\n  - name: a\n    tool: tcpconnect\n    options: { ports: [80, 70000] }\n', 4, /ports\[1\]: expected an integer from 1 to 65535/],
  ['programs:\n  - name: a\n    tool: execsnoop\n  - name: a\n    tool: tcpconnect\n', 4, /name 'a' is used twice \(also line 2\)/],
  ['listen: localhost\nprograms: []\n', 1, /listen: 'localhost' is not HOST:PORT/],
  ['programs: []\nbogus: 1\n', 2, /config: unknown field 'bogus'/],
  ['programs:\n  - name: o\n    object: x.o\n    metrics:\n      - name: h\n        type: histogram\n        map: m\n', 5, /a histogram needs 'bucket'/],
  ['programs:\n  - name: o\n    object: x.o\n    metrics:\n      - name: c\n        type: counter\n        map: m\n        labels: [{ name: 9x, field: a }]\n', 8, /'9x' is not a Prometheus label name/],
  ['programs:\n  - name: a\n    tool: execsnoop\n    script: x\n', 2, /exactly one of tool, object, script/],
  ['programs:\n  - name: a\n    tool: execsnoop\notlp: { endpoint: "http://h:1", programs: [b] }\n', 4, /no program named 'b'/],
  ['programs:\n  - name: a\n  tool: [\n', 3, /./],
  ['programs:\n  - name: x\n    tool: xdp-shield\n', 3, /programs\[0\]\.options\.iface: xdp-shield needs it/],
  ['programs:\n  - name: x\n    tool: tc-limit\n    options: { iface: eth0, direction: sideways, rate: 1000 }\n', 4, /direction: 'sideways' is not one of egress, ingress/],
];

for (const [text, line, re] of BAD) {
  test(`refused at line ${line}: ${re.source.slice(0, 50)}`, () => {
    assert.throws(
      () => parseConfig(text, 'bad.yaml'),
      (e: unknown) => e instanceof ConfigError && e.line === line && e.message.startsWith(`bad.yaml:${line}: `) && re.test(e.message),
    );
  });
}

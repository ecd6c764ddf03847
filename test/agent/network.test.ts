// The network tools under the agent, on real traffic (test/net-tools/topology.ts: namespaces A and B
// behind a veth of this namespace): xdp-shield blocking A's address and tc-limit policing ingress
// on the same interface; A's pings count as blocked (per action and per rule), B's as passed by
// both; a clean stop detaches both and removes their pins.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { needsCommand, needsRoot } from '../helpers/kernel.js';
import { topology, type Topology } from '../net-tools/topology.js';
import { startAgent, writeConfig, values, sum, eventually, type AgentProcess } from './helpers.js';

function ping(t: Topology, ns: 'A' | 'B', dst: string, n: number): void {
  try {
    t.exec(ns, ['ping', '-c', String(n), '-i', '0.2', '-W', '1', dst]);
  } catch {
    // blocked: no replies, ping exits 1
  }
}

test('agent: xdp-shield and tc-limit counters per verdict and per rule', async (t) => {
  if (!needsRoot(t) || !needsCommand(t, 'ping')) return;
  const topo = topology('agn');
  const pinPath = `/sys/fs/bpf/tsbpf-net-test-${process.pid}`;
  let agent: AgentProcess | undefined;
  try {
    agent = await startAgent(writeConfig(`listen: 127.0.0.1:0
node: edge1
pinPath: ${pinPath}
programs:
  - name: shield
    tool: xdp-shield
    options: { iface: ${topo.host}, block: ['${topo.a4}/32'], mode: generic }
  - name: police
    tool: tc-limit
    options: { iface: ${topo.host}, direction: ingress, rate: 1000000000, mode: police }
`));
    ping(topo, 'A', topo.host4, 3);
    ping(topo, 'B', topo.host4, 3);
    let text = '';
    await eventually(async () => sum(values((text = await agent!.metrics()), 'tsbpf_xdp_packets_total', { action: 'block' })) >= 3, 5000, 'blocked pings');
    assert.equal(sum(values(text, 'tsbpf_xdp_rule_packets_total', { kind: 'block', cidr: `${topo.a4}/32` })), sum(values(text, 'tsbpf_xdp_packets_total', { action: 'block' })));
    assert.ok(sum(values(text, 'tsbpf_xdp_packets_total', { action: 'pass' })) >= 3, text);
    assert.ok(sum(values(text, 'tsbpf_tc_limit_packets_total', { program: 'police', verdict: 'pass' })) >= 3, text);
    assert.ok(sum(values(text, 'tsbpf_xdp_bytes_total', { action: 'block' })) >= 3 * 84);
    assert.deepEqual(values(text, 'tsbpf_agent_program_up', { program: 'shield' }), [1]);
    assert.equal(await agent.stop(), 0);
    agent = undefined;
    assert.ok(!existsSync(`${pinPath}/edge1`), 'pins removed');
    // detached: A's pings get through again
    const out = topo.exec('A', ['ping', '-c', '1', '-W', '2', topo.host4]);
    assert.match(out, /1 received/);
  } finally {
    await agent?.stop('SIGKILL');
    rmSync(pinPath, { recursive: true, force: true });
    topo.close();
  }
});

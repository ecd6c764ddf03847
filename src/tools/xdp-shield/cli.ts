// `tsbpf xdp-shield IFACE [--block CIDR]… [--allow CIDR]… [--syn-rate N] [--pps-rate N] [--stats] [--pin]`
// runs a shield (until Ctrl+C, or with --pin until `stop`); `tsbpf xdp-shield IFACE block|unblock|
// allow|disallow CIDR`, `… status` and `… stop` act on the running one through its pinned maps.
import { Command, InvalidArgumentError } from 'commander';
import { XdpShield, ShieldControl, ShieldMaps, ACTIONS, DROP_ACTIONS, parseCidr, MAX_RATE, type Counter, type ShieldAction, type ShieldOptions } from './index.js';
import { pad } from '../../output/table.js';
import { toJson } from '../../output/json.js';
import { io, parseSeconds } from '../common/cli.js';
import { runTool, untilAborted } from '../common/run.js';
import { requirePrivileges, NETWORKING } from '../../command/privileges.js';

/** The shield's own options as flags, and the command's. */
export interface XdpShieldCliOptions extends Pick<ShieldOptions, 'block' | 'allow' | 'synRate' | 'ppsRate' | 'synBurst' | 'ppsBurst' | 'netlink'> {
  stats?: boolean;
  interval?: number;
  pin?: boolean;
  generic?: boolean;
  native?: boolean;
  protectMgmt?: boolean;
  json?: boolean;
  duration?: number;
}

const collect = (v: string, prev: string[] = []): string[] => {
  try {
    parseCidr(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
  return [...prev, v];
};

const rate = (what: string) => (v: string): number => {
  if (!/^\d+$/.test(v) || Number(v) > MAX_RATE) throw new InvalidArgumentError(`invalid ${what}: ${v} (0..${MAX_RATE} per second)`);
  return Number(v);
};

/** The client address of the SSH session this runs in, allowed unless --no-protect-mgmt. */
export function managementSources(env: NodeJS.ProcessEnv = process.env): string[] {
  const c = env.SSH_CONNECTION?.trim().split(/\s+/)[0] ?? env.SSH_CLIENT?.trim().split(/\s+/)[0];
  if (!c) return [];
  try {
    const p = parseCidr(c);
    return [`${c}/${p.family === 4 ? 32 : 128}`];
  } catch {
    return [];
  }
}

export function statusText(m: ShieldMaps, prev?: { actions: Record<ShieldAction, Counter>; at: number }, now = Date.now()): string {
  const acts = m.actions();
  const secs = prev ? (now - prev.at) / 1000 : 0;
  const cfg = m.config;
  let s = `rates: SYN ${cfg.synRate ? `${cfg.synRate}/s (burst ${cfg.synBurst})` : 'off'}, packets ${cfg.ppsRate ? `${cfg.ppsRate}/s (burst ${cfg.ppsBurst})` : 'off'}\n`;
  s += `${pad('ACTION', 10)} ${pad('VERDICT', 7)} ${pad('PACKETS', 12)} ${pad('BYTES', 14)}${prev ? ` ${pad('PKT/S', 10)}` : ''}\n`;
  for (const a of ACTIONS) {
    const c = acts[a];
    const rateCol = prev && secs > 0 ? ` ${pad(Math.round((c.packets - prev.actions[a].packets) / secs), 10)}` : '';
    s += `${pad(a, 10)} ${pad(DROP_ACTIONS.includes(a) ? 'DROP' : 'PASS', 7)} ${pad(c.packets, 12)} ${pad(c.bytes, 14)}${rateCol}\n`;
  }
  const rules = m.rules();
  s += `${pad('RULE', 5)} ${pad('KIND', 6)} ${pad('CIDR', 44)} ${pad('PACKETS', 12)} BYTES\n`;
  for (const r of rules) s += `${pad(r.id, 5)} ${pad(r.kind, 6)} ${pad(r.cidr, 44)} ${pad(r.packets, 12)} ${r.bytes}\n`;
  if (!rules.length) s += '(no rules)\n';
  return s;
}

async function runShield(iface: string, o: XdpShieldCliOptions): Promise<void> {
  if (o.generic && o.native) throw new Error('--generic and --native exclude each other');
  const allow = [...(o.allow ?? [])];
  if (o.protectMgmt !== false) {
    for (const m of managementSources()) {
      allow.push(m);
      io.err(`xdp-shield: allowing this SSH session's client ${m} (--no-protect-mgmt to not)\n`);
    }
  }
  const open = () =>
    XdpShield.open(iface, {
      allow,
      block: o.block,
      synRate: o.synRate,
      ppsRate: o.ppsRate,
      synBurst: o.synBurst,
      ppsBurst: o.ppsBurst,
      mode: o.generic ? 'generic' : o.native ? 'native' : 'auto',
      netlink: o.netlink,
      report: (line) => io.err(`xdp-shield: ${line}\n`),
    });
  await runTool('xdp-shield', o, open, async (shield, { signal, write }) => {
    if (o.pin) {
      shield.pin();
      io.err(`xdp-shield: attached to ${iface} and pinned at ${shield.pinDir}; remove with \`tsbpf xdp-shield ${iface} stop\`\n`);
      return;
    }
    io.err(`xdp-shield: attached to ${iface} (${shield.attachment}, ${shield.rules().length} rules); maps at ${shield.pinDir}. Ctrl+C to detach.\n`);
    let timer: NodeJS.Timeout | undefined;
    if (o.stats) {
      let prev = { actions: shield.actions(), at: Date.now() };
      timer = setInterval(() => {
        const now = Date.now();
        if (o.json) write.record(toJson({ type: 'stats', time: new Date(now).toISOString(), actions: shield.actions(), rules: shield.rules() }) + '\n');
        else write.record(`\n${new Date(now).toISOString()}\n${statusText(shield.maps, prev, now)}`);
        prev = { actions: shield.actions(), at: now };
      }, (o.interval ?? 1) * 1000);
    }
    try {
      await untilAborted(signal);
    } finally {
      clearInterval(timer);
    }
    if (o.json) write(toJson({ type: 'summary', actions: shield.actions(), rules: shield.rules() }) + '\n');
    else write(statusText(shield.maps));
  }, NETWORKING);
}

function control(iface: string, command: string, cidr: string | undefined, o: { json?: boolean }): void {
  if (command === 'stop') {
    const removed = ShieldControl.stop(iface);
    io.out(removed ? `xdp-shield: removed the shield on ${iface}\n` : `xdp-shield: no shield on ${iface}\n`);
    if (!removed) process.exitCode = 1;
    return;
  }
  const c = ShieldControl.open(iface);
  try {
    if (command === 'status') {
      if (o.json) io.out(toJson({ iface, config: c.config, actions: c.actions(), rules: c.rules(), pinned: c.pinnedLink }) + '\n');
      else io.out(statusText(c));
      return;
    }
    if (!cidr) throw new Error(`xdp-shield ${iface} ${command}: needs a CIDR`);
    parseCidr(cidr);
    switch (command) {
      case 'block':
      case 'allow': {
        const r = c.add(command, cidr);
        io.out(`${command} ${r.cidr} (rule ${r.id})\n`);
        return;
      }
      case 'unblock':
      case 'disallow': {
        const kind = command === 'unblock' ? 'block' : 'allow';
        if (!c.remove(kind, cidr)) throw new Error(`xdp-shield: no ${kind} rule for ${cidr}`);
        io.out(`${command} ${cidr}\n`);
        return;
      }
    }
  } finally {
    c.close();
  }
}

const COMMANDS = ['block', 'unblock', 'allow', 'disallow', 'status', 'stop'];

export function xdpShieldCommand(): Command {
  const cmd = new Command('xdp-shield')
    .description('Drop traffic at the driver: block/allow lists and per-source SYN and packet rate limits (XDP)')
    .argument('<iface>', 'network interface')
    .argument('[command]', `run-time control of a running shield: ${COMMANDS.join(', ')}`)
    .argument('[cidr]', 'prefix for block/unblock/allow/disallow')
    .option('--block <cidr>', 'drop packets from this IPv4/IPv6 prefix (repeatable)', collect)
    .option('--allow <cidr>', 'always pass packets from this prefix, before blocks and rate limits (repeatable)', collect)
    .option('--syn-rate <n>', 'TCP SYNs per second per source', rate('SYN rate'))
    .option('--pps-rate <n>', 'packets per second per source', rate('packet rate'))
    .option('--syn-burst <n>', 'SYN bucket depth (default: one second of --syn-rate)', rate('SYN burst'))
    .option('--pps-burst <n>', 'packet bucket depth (default: one second of --pps-rate)', rate('packet burst'))
    .option('--stats', 'print counters every interval')
    .option('--interval <seconds>', 'with --stats: seconds between prints', parseSeconds)
    .option('--pin', 'stay attached after exiting (pinned link); remove with `xdp-shield IFACE stop`')
    .option('--generic', 'generic (skb) XDP mode')
    .option('--native', 'native (driver) XDP mode')
    .option('--netlink', 'attach by netlink instead of a bpf_link (kernels before 5.9)')
    .option('--no-protect-mgmt', "do not allow this SSH session's client address automatically")
    .option('--json', 'JSON lines')
    .option('--duration <seconds>', 'detach after this many seconds', parseSeconds);
  return cmd.action(async (iface: string, command: string | undefined, cidr: string | undefined, opts: XdpShieldCliOptions) => {
    if (command === undefined) return runShield(iface, opts);
    if (!COMMANDS.includes(command)) throw new Error(`xdp-shield: unknown command "${command}" (${COMMANDS.join(', ')})`);
    requirePrivileges(`xdp-shield ${command}`, NETWORKING);
    control(iface, command, cidr, opts);
  });
}

// `tsbpf tc-limit IFACE --egress|--ingress --rate RATE [--per-ip] [--cgroup PATH]`: limits until
// Ctrl+C, SIGTERM, SIGHUP or --duration, printing the counters every --interval with --stats, and
// at the end.
import { Command, InvalidArgumentError, Option } from 'commander';
import { TcLimiter, parseRate, formatRate, type LimitStats, type TcLimitOptions } from './index.js';
import { pad } from '../../output/table.js';
import { toJson } from '../../output/json.js';
import { io, parseSeconds } from '../common/cli.js';
import { runTool, untilAborted } from '../common/run.js';
import { NETWORKING } from '../../command/privileges.js';

/** The limiter's own options as flags, and the command's. */
export interface TcLimitCliOptions extends Pick<TcLimitOptions, 'rate' | 'perIp' | 'cgroup' | 'burst' | 'mode' | 'netlink'> {
  egress?: boolean;
  ingress?: boolean;
  stats?: boolean;
  interval?: number;
  json?: boolean;
  duration?: number;
}

const rateArg = (v: string): number => {
  try {
    return parseRate(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
};

const bytesArg = (v: string): number => {
  if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`invalid burst: ${v} (bytes)`);
  return Number(v);
};

export function statsText(s: LimitStats): string {
  let out = `${pad('', 6)} ${pad('PACKETS', 12)} BYTES\n`;
  for (const [k, c] of Object.entries(s)) out += `${pad(k, 6)} ${pad(c.packets, 12)} ${c.bytes}\n`;
  return out;
}

export async function runTcLimit(iface: string, o: TcLimitCliOptions): Promise<void> {
  if (!!o.egress === !!o.ingress) throw new Error('tc-limit: give exactly one of --egress and --ingress');
  const open = () =>
    TcLimiter.open(iface, {
      direction: o.egress ? 'egress' : 'ingress',
      rate: o.rate,
      perIp: o.perIp,
      cgroup: o.cgroup,
      burst: o.burst,
      mode: o.mode,
      netlink: o.netlink,
      report: (line) => io.err(`tc-limit: ${line}\n`),
    });
  await runTool('tc-limit', o, open, async (lim, { signal, write }) => {
    if (lim.note) io.err(`tc-limit: ${lim.note}\n`);
    io.err(`tc-limit: ${o.egress ? 'egress' : 'ingress'} of ${iface} limited to ${formatRate(o.rate)}${o.perIp ? ' per IP' : ''} (${lim.mode === 'edt' ? 'EDT pacing with fq' : 'policing'}, ${lim.attachment}). Ctrl+C to stop.\n`);
    const timer = o.stats
      ? setInterval(() => {
          const s = lim.stats();
          write.record(o.json ? toJson({ type: 'stats', time: new Date().toISOString(), ...s }) + '\n' : `\n${statsText(s)}`);
        }, (o.interval ?? 1) * 1000)
      : undefined;
    try {
      await untilAborted(signal);
    } finally {
      clearInterval(timer);
    }
    const s = lim.stats();
    write(o.json ? toJson({ type: 'summary', mode: lim.mode, rate: o.rate, ...s }) + '\n' : statsText(s));
  }, NETWORKING);
}

export function tcLimitCommand(): Command {
  return new Command('tc-limit')
    .description('Rate-limit an interface with tc BPF: egress pacing by departure time (fq), ingress policing')
    .argument('<iface>', 'network interface')
    .option('--egress', 'limit what the interface sends')
    .option('--ingress', 'limit what the interface receives')
    .requiredOption('--rate <rate>', "rate in tc's units: 10mbit, 1gbit, 500kbps, 1.5mbit", rateArg)
    .option('--per-ip', 'one limit per IP address (destination at egress, source at ingress)')
    .option('--cgroup <path>', 'egress: only sockets of this cgroup v2 and below it')
    .option('--burst <bytes>', 'policing bucket depth (default 400 ms of the rate, at least 256 KiB)', bytesArg)
    .addOption(new Option('--mode <mode>', 'force EDT pacing or policing').choices(['edt', 'police']))
    .option('--netlink', 'attach with a clsact qdisc by netlink instead of tcx')
    .option('--stats', 'print counters every interval')
    .option('--interval <seconds>', 'with --stats: seconds between prints', parseSeconds)
    .option('--json', 'JSON lines')
    .option('--duration <seconds>', 'stop after this many seconds', parseSeconds)
    .action((iface: string, o: TcLimitCliOptions) => runTcLimit(iface, o));
}

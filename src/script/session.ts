// A running script seen from user space, whichever engine runs its programs (the kernel: runtime.ts;
// the VM: vm.ts): the event records its programs send (printf, print, time, exit, ...) turned into
// output, and its maps read and printed the way bpftrace prints them. Pure: the engine hands in its
// maps as raw bytes and what the machine knows (symbols, files, commands) through SessionHost.
import { AGGREGATIONS } from './builtins/aggregations.js';
import type { CompiledScript } from './compile-for.js';
import { renderFormat, type FormatValue } from './format.js';
import { JOIN_ARGS, JOIN_LEN, mapLayout, mapName } from './maps.js';
import { formatDiagnostic } from './error.js';
import { decodeValue, formatMapJson, strerror, topDiv, formatMapText, valueJson, valueText, type AggValue, type DecodeContext, type MapEntry, type Value } from './output.js';
import { strftime } from './strftime.js';
import { align8, sizeOf, type MapInfo } from './types.js';

/** A map as user space reads it: raw keys and values (per-CPU values side by side, `stride` apart). */
export interface RawMap {
  keys(): Uint8Array[];
  lookup(key: Uint8Array): Uint8Array | undefined;
  delete(key: Uint8Array): void;
  /** set the value of key to zeroes */
  zero(key: Uint8Array): void;
  /** CPUs a per-CPU value has (1 otherwise) */
  readonly cpus: number;
  /** bytes between two CPUs' values */
  readonly stride: number;
}

/** What a session needs of the machine and of whoever prints. */
export interface SessionHost {
  /** map output, headers: written as they come */
  write(s: string): void;
  /** event lines (printf, print, ...): records, which a stalled reader may lose */
  record(s: string): void;
  /** the text of a file, for cat() (or an error line) */
  readFile(path: string): string;
  /** run a command and give its output, for system() */
  system(command: string): string;
  /** something the user should know that is no output of the script */
  warn(message: string): void;
  /** wall-clock ms now and CLOCK_MONOTONIC ns now: places nsecs on the clock (strftime) */
  now(): { wallMs: number; monotonicNs: bigint };
  /** symbols, user names and stacks */
  decode: Omit<DecodeContext, 'strftime'>;
}

export class ScriptSession {
  /** set by exit(): no more events are handled until END runs */
  exited = false;
  /** set once stopped by a signal: system() events left in the buffer are not run */
  skipCommands = false;
  private readonly decode: DecodeContext;

  constructor(
    readonly script: CompiledScript,
    private readonly host: SessionHost,
    private readonly map: (name: string) => RawMap,
    readonly json: boolean,
  ) {
    this.decode = {
      ...host.decode,
      strftime: (fmt, ns) => {
        // nsecs is CLOCK_MONOTONIC: place it on the wall clock through the current offset
        const now = host.now();
        return strftime(script.checked.formats[fmt]!.fmt, new Date(now.wallMs - Number((now.monotonicNs - ns) / 1_000_000n)), Number(ns % 1_000_000_000n));
      },
    };
  }

  /** `Attaching N probes...` */
  attaching(probes: number): void {
    this.host.write(this.json ? `{"type": "attached_probes", "data": {"probes": ${probes}}}\n` : `Attaching ${probes} probe${probes === 1 ? '' : 's'}...\n`);
  }

  /** One event record: [u64 format id][arguments]. Ignored after exit(). */
  handleEvent(v: DataView): void {
    if (this.exited || v.byteLength < 8) return;
    const c = this.script.checked;
    const id = Number(v.getBigUint64(0, true));
    const f = c.formats[id];
    if (!f) return;
    const need = 8 + f.args.reduce((n, t) => n + align8(sizeOf(t)), 0);
    if (f.kind !== 'join' && v.byteLength < need) {
      this.host.warn(`short event record for ${f.kind} #${id}: ${v.byteLength} bytes, expected ${need}`);
      return;
    }
    const args: Value[] = [];
    let at = 8;
    f.args.forEach((t, i) => {
      // %rx: a buffer's every byte as \xNN (%r leaves printable ones as they are)
      if (t.k === 'buf' && f.parsed?.convs[i]?.conv === 'rx') args.push(hexBytes(v, at, t.size));
      else args.push(decodeValue(t, v, at, this.decode));
      at += align8(sizeOf(t));
    });
    const out = (type: string, text: string): void => this.host.record(this.json ? `{"type": "${type}", "data": ${JSON.stringify(text)}}\n` : text);
    switch (f.kind) {
      case 'printf': case 'system': case 'cat': {
        const text = renderFormat(f.parsed!, args.map((a): FormatValue => (typeof a === 'bigint' ? a : valueText(a))));
        if (f.kind === 'printf') out('printf', text);
        else if (f.kind === 'cat') out('cat', this.host.readFile(text));
        else if (!this.skipCommands) out('syscall', this.host.system(text));
        return;
      }
      case 'time': return out('time', strftime(f.fmt, new Date(this.host.now().wallMs)));
      case 'join': {
        const parts: string[] = [];
        for (let i = 0; i < JOIN_ARGS; i++) {
          const s = new Uint8Array(v.buffer, v.byteOffset + 8 + i * JOIN_LEN, JOIN_LEN);
          if (s[0] === 0) break;
          const nul = s.indexOf(0);
          parts.push(new TextDecoder().decode(s.subarray(0, nul < 0 ? JOIN_LEN : nul)));
        }
        const text = parts.join(f.fmt);
        return out('join', this.json ? text : `${text}\n`);
      }
      case 'exit':
        this.exited = true;
        return;
      case 'print':
        if (f.map !== undefined) this.printMap(c.maps.get(f.map)!, false, (s) => this.host.record(s), f.top, f.div);
        else this.host.record(this.json ? `{"type": "value", "data": ${valueJson(args[0]!)}}\n` : `${valueText(args[0]!)}\n`);
        return;
      case 'clear': case 'zero': {
        const info = c.maps.get(f.map!)!;
        const m = this.map(mapName(info.name));
        // bpftrace zeroes (rather than deletes) a keyless aggregation on clear()
        const del = f.kind === 'clear' && !(info.keys.length === 0 && info.value.kind === 'agg' && !AGGREGATIONS.get(info.value.agg)!.bucketed);
        for (const k of m.keys()) {
          if (del) m.delete(k);
          else m.zero(k);
        }
        return;
      }
      case 'strftime':
        return;
      case 'helper_error': {
        const ret = Number(args[0]);
        const site = this.script.helperSites?.[Number(args[1])];
        if (!site) return;
        const text = formatDiagnostic(`Failed to ${site.helper}: ${strerror(ret)} (${ret})`, site.pos, this.script.source, this.script.fileName, 'WARNING');
        return this.host.record(this.json ? `{"type": "warning", "data": ${JSON.stringify(text)}}\n` : `${text}\n`);
      }
    }
  }

  /** Every map of the script, read now (the agent serves them as metrics). */
  readMaps(): { info: MapInfo; entries: MapEntry[] }[] {
    return [...this.script.checked.maps.values()].map((info) => ({ info, entries: readMap(info, this.map(mapName(info.name)), this.decode) }));
  }

  /** Every map of the script, by name, as at exit (and on SIGUSR1 while running, as bpftrace does). */
  printAllMaps(atExit: boolean): void {
    const maps = [...this.script.checked.maps.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const info of maps) this.printMap(info, atExit, (s) => this.host.write(s));
  }

  /** What ends a run: END's output, then a blank line and the maps (text), or the maps (json). */
  finish(): void {
    if (!this.json) this.host.write('\n\n');
    this.printAllMaps(true);
  }

  private printMap(info: MapInfo, atExit: boolean, write: (s: string) => void, top = 0, div = 1): void {
    let entries = readMap(info, this.map(mapName(info.name)), this.decode);
    if (top || div > 1) entries = topDiv(entries, top, div);
    if (!this.json) return write(formatMapText(info, entries));
    if (entries.length || !atExit) write(formatMapJson(info, entries));
  }
}

function hexBytes(v: DataView, at: number, size: number): string {
  const n = Math.min(Number(v.getBigUint64(at, true)), size);
  let s = '';
  for (let i = 0; i < n; i++) s += `\\x${v.getUint8(at + 8 + i).toString(16).padStart(2, '0')}`;
  return s;
}

/** Read a map and combine per-CPU values; hist buckets grouped under their user key. */
export function readMap(info: MapInfo, m: RawMap, ctx: DecodeContext): MapEntry[] {
  const lay = mapLayout(info);
  const userKeySize = lay.keySize - (lay.histKey ? 8 : 0);
  const groups = new Map<string, MapEntry>();
  const decodeKeys = (k: Uint8Array): Value[] => {
    const dv = new DataView(k.buffer, k.byteOffset, k.byteLength);
    let at = 0;
    return info.keys.map((t) => {
      // map keys print stacks indented by 4, printf by 8 (as bpftrace)
      const x = decodeValue(t, dv, at, ctx, 4);
      at += align8(sizeOf(t));
      return x;
    });
  };
  for (const k of m.keys()) {
    const raw = m.lookup(k);
    if (!raw) continue;
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const userKey = k.subarray(0, userKeySize);
    const gk = Array.from(userKey).join(',');
    if (info.value.kind === 'value') {
      groups.set(gk, { keys: decodeKeys(userKey), value: { kind: 'value', value: decodeValue(info.value.type, dv, 0, ctx, 4) } });
      continue;
    }
    const agg = AGGREGATIONS.get(info.value.agg)!;
    const value: AggValue = agg.combine({
      cpus: m.cpus,
      u64: (cpu, o) => dv.getBigUint64(cpu * m.stride + o, true),
      s64: (cpu, o) => dv.getBigInt64(cpu * m.stride + o, true),
    });
    if (!agg.bucketed) {
      groups.set(gk, { keys: decodeKeys(userKey), value });
      continue;
    }
    const bucket = Number(new DataView(k.buffer, k.byteOffset, k.byteLength).getBigUint64(lay.keySize - 8, true));
    const g = groups.get(gk);
    const buckets = g ? (g.value as { buckets: bigint[] }).buckets : [];
    while (buckets.length <= bucket) buckets.push(0n);
    buckets[bucket] = (value as { value: bigint }).value;
    if (!g) groups.set(gk, { keys: decodeKeys(userKey), value: { kind: 'hist', buckets } });
  }
  // bpftrace 0.17 shows a keyless count() that never counted (pidpersec.bt's quiet seconds) as 0,
  // where other maps that were never written show nothing
  if (!groups.size && !info.keys.length && info.value.kind === 'agg' && info.value.agg === 'count') {
    groups.set('', { keys: [], value: AGGREGATIONS.get('count')!.combine({ cpus: 1, u64: () => 0n, s64: () => 0n }) });
  }
  return [...groups.values()];
}

// The agent's YAML config: parsed with `yaml`, checked field by field; an error names the file, the
// line and the field, and says what would be right. The result is plain, defaulted objects.
import { hostname } from 'node:os';
import { LineCounter, parseDocument, isMap, isSeq, isScalar, type Node, type Document } from 'yaml';
import { LEVELS, type LogLevel } from './log.js';
import type { Labels } from './metrics.js';

export const TOOLS = ['tcpconnect', 'execsnoop', 'tcplife', 'runqlat', 'biolatency', 'syscount', 'xdp-shield', 'tc-limit'] as const;
export type ToolName = (typeof TOOLS)[number];

export const DECODERS = ['uint', 'int', 'hex', 'string', 'inet', 'port', 'ksym', 'cgroup', 'container'] as const;
export type Decoder = (typeof DECODERS)[number];

export interface LabelConfig {
  /** the Prometheus label name */
  name: string;
  /** member of the map's key struct (dots for nested members); empty: the whole key */
  field: string;
  decoder: Decoder;
}

export interface MapMetricConfig {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  map: string;
  labels: LabelConfig[];
  /** member of the value struct to read (default the value itself); per-CPU values are summed */
  value?: string;
  bucket?: {
    type: 'log2' | 'linear';
    /** a key member holding the bucket index (ebpf_exporter's layout) ... */
    field?: string;
    /** ... or a value member that is the array of buckets (the tools' struct hist) */
    slots?: string;
    /** base units per unit counted (1e-6 for microseconds) */
    unit: number;
    min: number;
    step: number;
  };
}

interface ProgramBase {
  name: string;
  /** the program's config as written, for "did it change" on reload */
  digest: string;
  line: number;
}

export type ProgramConfig =
  | (ProgramBase & { kind: 'tool'; tool: ToolName; labels?: string[]; options: Record<string, unknown> })
  | (ProgramBase & { kind: 'object'; path: string; metrics: MapMetricConfig[] })
  | (ProgramBase & { kind: 'script'; source: string });

export interface OtlpConfig {
  endpoint: string;
  signal: 'logs' | 'traces';
  /** programs whose events are exported (default every event program) */
  programs?: string[];
  /** runqlat: export each wait at least this long (ms) */
  runqThresholdMs?: number;
}

export interface AgentConfig {
  file: string;
  listen: { host: string; port: number };
  node: string;
  labels: Labels;
  cgroup?: string;
  pinPath: string;
  maxSeries: number;
  logLevel: LogLevel;
  hostRoot: string;
  stats: boolean;
  programs: ProgramConfig[];
  otlp?: OtlpConfig;
}

export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(`${file}:${line}: ${message}`);
    this.name = 'ConfigError';
  }
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const PROGRAM_NAME = /^[a-zA-Z0-9_][a-zA-Z0-9_.-]{0,62}$/;

/** Walks the document with positions: every check says where. */
class Checker {
  constructor(
    private readonly file: string,
    private readonly lines: LineCounter,
  ) {}

  lineOf(n: Node | null | undefined): number {
    return n?.range ? this.lines.linePos(n.range[0]).line : 1;
  }

  fail(n: Node | null | undefined, msg: string): never {
    throw new ConfigError(this.file, this.lineOf(n), msg);
  }

  /** A map's entries by key, refusing keys not in `allowed`. */
  fields(n: Node | null | undefined, where: string, allowed: readonly string[]): Map<string, Node> {
    if (!isMap(n)) this.fail(n, `${where}: expected a mapping (key: value)`);
    const out = new Map<string, Node>();
    for (const pair of n.items) {
      const k = isScalar(pair.key) ? String(pair.key.value) : '';
      if (!allowed.includes(k)) this.fail(pair.key as Node, `${where}: unknown field '${k}' (fields: ${allowed.join(', ')})`);
      out.set(k, pair.value as Node);
    }
    return out;
  }

  str(n: Node | undefined, where: string, re?: RegExp, what?: string): string {
    if (!isScalar(n) || typeof n.value !== 'string' || n.value === '') this.fail(n, `${where}: expected a string`);
    if (re && !re.test(n.value)) this.fail(n, `${where}: '${n.value}' is not ${what ?? `a match of ${re}`}`);
    return n.value;
  }

  num(n: Node | undefined, where: string, min: number, max: number, int = true): number {
    const v = isScalar(n) ? n.value : undefined;
    if (typeof v !== 'number' || !Number.isFinite(v) || (int && !Number.isInteger(v)) || v < min || v > max) {
      this.fail(n, `${where}: expected ${int ? 'an integer' : 'a number'} from ${min} to ${max}`);
    }
    return v;
  }

  bool(n: Node | undefined, where: string): boolean {
    if (!isScalar(n) || typeof n.value !== 'boolean') this.fail(n, `${where}: expected true or false`);
    return n.value;
  }

  oneOf<T extends string>(n: Node | undefined, where: string, choices: readonly T[]): T {
    const v = this.str(n, where);
    if (!choices.includes(v as T)) this.fail(n, `${where}: '${v}' is not one of ${choices.join(', ')}`);
    return v as T;
  }

  list(n: Node | undefined, where: string): Node[] {
    if (!isSeq(n)) this.fail(n, `${where}: expected a list`);
    return n.items as Node[];
  }
}

type OptionKind = 'bool' | 'ports' | 'family' | 'iface' | 'cidrs' | 'rate' | readonly string[];

/** Per tool: its options and their kinds (checked here, passed to the tool's open()). */
const TOOL_OPTIONS: Record<ToolName, Record<string, OptionKind>> = {
  tcpconnect: { ports: 'ports', family: 'family' },
  execsnoop: { failed: 'bool' },
  tcplife: { family: 'family' },
  runqlat: { perProcess: 'bool' },
  biolatency: { perDisk: 'bool', perFlag: 'bool', queued: 'bool' },
  syscount: { perProcess: 'bool', failed: 'bool', latency: 'bool' },
  'xdp-shield': { iface: 'iface', block: 'cidrs', allow: 'cidrs', synRate: 'rate', ppsRate: 'rate', mode: ['auto', 'native', 'generic'] },
  'tc-limit': { iface: 'iface', direction: ['egress', 'ingress'], rate: 'rate', perIp: 'bool', mode: ['edt', 'police'] },
};

/** Options a tool cannot do without. */
const REQUIRED: Partial<Record<ToolName, string[]>> = { 'xdp-shield': ['iface'], 'tc-limit': ['iface', 'direction', 'rate'] };

/** The labels each event tool can count by (and its default set). */
export const EVENT_LABELS: Partial<Record<ToolName, { all: readonly string[]; default: readonly string[] }>> = {
  tcpconnect: { all: ['container', 'container_id', 'pod', 'namespace', 'comm', 'daddr', 'dport', 'af', 'uid'], default: ['container', 'container_id', 'comm', 'dport'] },
  execsnoop: { all: ['container', 'container_id', 'pod', 'namespace', 'comm', 'uid', 'failed'], default: ['container', 'container_id', 'comm'] },
  tcplife: { all: ['container', 'container_id', 'pod', 'namespace', 'comm', 'daddr', 'dport', 'af'], default: ['container', 'container_id', 'comm', 'dport'] },
};

function toolProgram(c: Checker, f: Map<string, Node>, base: ProgramBase, where: string): ProgramConfig {
  const tool = c.oneOf(f.get('tool'), `${where}.tool`, TOOLS);
  const options: Record<string, unknown> = {};
  const kinds = TOOL_OPTIONS[tool];
  const opts = f.get('options');
  if (opts) {
    for (const [k, v] of c.fields(opts, `${where}.options`, Object.keys(kinds))) {
      const w = `${where}.options.${k}`;
      const kind = kinds[k]!;
      if (kind === 'bool') options[k] = c.bool(v, w);
      else if (kind === 'family') options[k] = c.num(v, w, 4, 6) === 5 ? c.fail(v, `${w}: expected 4 or 6`) : (v as { value: number }).value;
      else if (kind === 'iface') options[k] = c.str(v, w, /^[^\s/]{1,15}$/, 'an interface name');
      else if (kind === 'rate') options[k] = c.num(v, w, 1, 1e12);
      else if (kind === 'cidrs') options[k] = c.list(v, w).map((x, i) => c.str(x, `${w}[${i}]`));
      else if (typeof kind !== 'string') options[k] = c.oneOf(v, w, kind);
      else {
        const ports = c.list(v, w).map((p, i) => c.num(p, `${w}[${i}]`, 1, 65535));
        if (ports.length > 8) c.fail(v, `${w}: at most 8 ports`);
        options[k] = ports;
      }
    }
  }
  for (const r of REQUIRED[tool] ?? []) if (!(r in options)) c.fail(opts ?? f.get('tool'), `${where}.options.${r}: ${tool} needs it`);
  const labelsNode = f.get('labels');
  let labels: string[] | undefined;
  if (labelsNode) {
    const known = EVENT_LABELS[tool];
    if (!known) c.fail(labelsNode, `${where}.labels: ${tool} counts in the kernel; its labels are fixed`);
    labels = c.list(labelsNode, `${where}.labels`).map((l, i) => c.oneOf(l, `${where}.labels[${i}]`, known.all));
  }
  return { ...base, kind: 'tool', tool, options, ...(labels ? { labels } : {}) };
}

function mapMetric(c: Checker, n: Node, where: string): MapMetricConfig {
  const f = c.fields(n, where, ['name', 'help', 'type', 'map', 'labels', 'value', 'bucket']);
  const type = c.oneOf(f.get('type'), `${where}.type`, ['counter', 'gauge', 'histogram'] as const);
  const m: MapMetricConfig = {
    name: c.str(f.get('name'), `${where}.name`, METRIC_NAME, 'a Prometheus metric name'),
    help: f.has('help') ? c.str(f.get('help'), `${where}.help`) : '',
    type,
    map: c.str(f.get('map'), `${where}.map`),
    labels: f.has('labels')
      ? c.list(f.get('labels'), `${where}.labels`).map((l, i) => {
          const w = `${where}.labels[${i}]`;
          const lf = c.fields(l, w, ['name', 'field', 'decoder']);
          return {
            name: c.str(lf.get('name'), `${w}.name`, LABEL_NAME, 'a Prometheus label name'),
            field: lf.has('field') ? c.str(lf.get('field'), `${w}.field`) : '',
            decoder: lf.has('decoder') ? c.oneOf(lf.get('decoder'), `${w}.decoder`, DECODERS) : 'uint',
          };
        })
      : [],
  };
  if (f.has('value')) m.value = c.str(f.get('value'), `${where}.value`);
  const b = f.get('bucket');
  if (type === 'histogram') {
    if (!b) c.fail(n, `${where}: a histogram needs 'bucket' (type: log2 or linear, and field or slots)`);
    const bf = c.fields(b, `${where}.bucket`, ['type', 'field', 'slots', 'unit', 'min', 'step']);
    const bucket: NonNullable<MapMetricConfig['bucket']> = {
      type: c.oneOf(bf.get('type'), `${where}.bucket.type`, ['log2', 'linear'] as const),
      unit: bf.has('unit') ? c.num(bf.get('unit'), `${where}.bucket.unit`, 1e-12, 1e12, false) : 1,
      min: bf.has('min') ? c.num(bf.get('min'), `${where}.bucket.min`, -1e15, 1e15) : 0,
      step: bf.has('step') ? c.num(bf.get('step'), `${where}.bucket.step`, 1, 1e15) : 1,
    };
    if (bf.has('field')) bucket.field = c.str(bf.get('field'), `${where}.bucket.field`);
    if (bf.has('slots')) bucket.slots = c.str(bf.get('slots'), `${where}.bucket.slots`);
    if (!bucket.field === !bucket.slots) c.fail(b, `${where}.bucket: give one of field (a key member holding the bucket index) or slots (a value member that is the bucket array)`);
    m.bucket = bucket;
  } else if (b) c.fail(b, `${where}.bucket: only histograms have buckets`);
  return m;
}

function program(c: Checker, n: Node, i: number, doc: Document): ProgramConfig {
  const where = `programs[${i}]`;
  const f = c.fields(n, where, ['name', 'tool', 'object', 'script', 'labels', 'options', 'metrics']);
  const kinds = ['tool', 'object', 'script'].filter((k) => f.has(k));
  if (kinds.length !== 1) c.fail(n, `${where}: give exactly one of tool, object, script`);
  const base: ProgramBase = {
    name: c.str(f.get('name'), `${where}.name`, PROGRAM_NAME, 'a name of letters, digits, _ . - (up to 63)'),
    digest: JSON.stringify(n.toJSON(doc)),
    line: c.lineOf(n),
  };
  if (f.has('tool')) return toolProgram(c, f, base, where);
  for (const k of ['labels', 'options']) if (f.has(k)) c.fail(f.get(k), `${where}.${k}: only for tools`);
  if (f.has('script')) {
    if (f.has('metrics')) c.fail(f.get('metrics'), `${where}.metrics: a script's maps are its metrics`);
    return { ...base, kind: 'script', source: c.str(f.get('script'), `${where}.script`) };
  }
  const metrics = c.list(f.get('metrics'), `${where}.metrics`).map((m, j) => mapMetric(c, m, `${where}.metrics[${j}]`));
  return { ...base, kind: 'object', path: c.str(f.get('object'), `${where}.object`), metrics };
}

function listen(c: Checker, n: Node | undefined): { host: string; port: number } {
  if (!n) return { host: '127.0.0.1', port: 9435 };
  const s = c.str(n, 'listen');
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) c.fail(n, `listen: '${s}' is not HOST:PORT (127.0.0.1:9435, [::1]:9435, :9435)`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/** What the command line sets over the file (the DaemonSet gives each pod its node's name). */
export interface ConfigOverrides {
  node?: string;
}

/** Parses and checks a config; throws ConfigError naming the line. */
export function parseConfig(text: string, file = 'config', overrides: ConfigOverrides = {}): AgentConfig {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    throw new ConfigError(file, lines.linePos(e.pos[0]).line, e.message.split('\n')[0]!);
  }
  const c: Checker = new Checker(file, lines);
  const top = c.fields(doc.contents, 'config', ['listen', 'node', 'labels', 'cgroup', 'pinPath', 'maxSeries', 'log', 'hostRoot', 'stats', 'programs', 'otlp']);
  const labels: Labels = {};
  const ln = top.get('labels');
  if (ln) {
    if (!isMap(ln)) c.fail(ln, 'labels: expected a mapping of label: value');
    for (const p of ln.items) {
      const k = c.str(p.key as Node, 'labels', LABEL_NAME, 'a Prometheus label name');
      labels[k] = isScalar(p.value) && p.value.value !== null ? String(p.value.value) : c.fail(p.value as Node, `labels.${k}: expected a value`);
    }
  }
  const progs = c.list(top.get('programs'), 'programs').map((p, i) => program(c, p, i, doc));
  const seen = new Map<string, number>();
  for (const p of progs) {
    if (seen.has(p.name)) throw new ConfigError(file, p.line, `programs: name '${p.name}' is used twice (also line ${seen.get(p.name)})`);
    seen.set(p.name, p.line);
  }
  const cfg: AgentConfig = {
    file,
    listen: listen(c, top.get('listen')),
    node: overrides.node ?? (top.has('node') ? c.str(top.get('node'), 'node', LABEL_VALUE_SAFE, 'a node name (letters, digits, _ . -)') : hostname()),
    labels,
    pinPath: top.has('pinPath') ? c.str(top.get('pinPath'), 'pinPath', /^\//, 'an absolute path') : '/sys/fs/bpf/tsbpf/agent',
    maxSeries: top.has('maxSeries') ? c.num(top.get('maxSeries'), 'maxSeries', 1, 1_000_000) : 1000,
    logLevel: 'info',
    hostRoot: top.has('hostRoot') ? c.str(top.get('hostRoot'), 'hostRoot', /^\//, 'an absolute path') : '',
    stats: top.has('stats') ? c.bool(top.get('stats'), 'stats') : true,
    programs: progs,
  };
  if (top.has('cgroup')) cfg.cgroup = c.str(top.get('cgroup'), 'cgroup');
  const log = top.get('log');
  if (log) {
    const lf = c.fields(log, 'log', ['level']);
    if (lf.has('level')) cfg.logLevel = c.oneOf(lf.get('level'), 'log.level', LEVELS);
  }
  const o = top.get('otlp');
  if (o) {
    const of = c.fields(o, 'otlp', ['endpoint', 'signal', 'programs', 'runqThresholdMs']);
    cfg.otlp = {
      endpoint: c.str(of.get('endpoint'), 'otlp.endpoint', /^https?:\/\/[^/\s]+/, 'an http(s) URL'),
      signal: of.has('signal') ? c.oneOf(of.get('signal'), 'otlp.signal', ['logs', 'traces'] as const) : 'logs',
    };
    if (of.has('programs')) {
      cfg.otlp.programs = c.list(of.get('programs'), 'otlp.programs').map((p, i) => {
        const name = c.str(p, `otlp.programs[${i}]`);
        if (!seen.has(name)) c.fail(p, `otlp.programs[${i}]: no program named '${name}'`);
        return name;
      });
    }
    if (of.has('runqThresholdMs')) cfg.otlp.runqThresholdMs = c.num(of.get('runqThresholdMs'), 'otlp.runqThresholdMs', 0, 1e6, false);
  }
  return cfg;
}

const LABEL_VALUE_SAFE = /^[a-zA-Z0-9_.-]{1,63}$/;

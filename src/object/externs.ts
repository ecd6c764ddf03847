// Externs: `extern ... __kconfig` variables live in a `.kconfig` map whose layout libbpf decides
// (sorted by alignment, size, name); `extern ... __ksym` names kernel variables and functions the
// loader resolves to kernel BTF ids. resolveExterns writes kconfig values the way libbpf does.
import type { Btf } from '../btf/btf.js';
import { BTF_INT_BOOL, BTF_INT_SIGNED, BtfKind, type BtfDatasec } from '../btf/types.js';
import { SHN_UNDEF, STB_GLOBAL, STB_WEAK } from '../elf/constants.js';
import type { ElfSymbol } from '../elf/reader.js';
import { MapType } from '../uapi/bpf.js';
import { BPF_F_MMAPABLE, BPF_F_RDONLY_PROG } from './maps.js';
import { internalMapName } from './names.js';
import { ObjectError, type CollectionSpec, type ExternSpec, type MapSpec } from './spec.js';

type KconfigType = NonNullable<ExternSpec['kconfigType']>;

/** libbpf's find_kcfg_type: what a kconfig extern's C type can hold. */
function kconfigType(btf: Btf, id: number): { type: KconfigType; signed: boolean } {
  const t = btf.resolve(id);
  switch (t.kind) {
    case BtfKind.INT:
      if (t.encoding & BTF_INT_BOOL) return { type: t.size === 1 ? 'bool' : 'unknown', signed: false };
      if (t.size === 1) return { type: 'char', signed: !!(t.encoding & BTF_INT_SIGNED) };
      if (t.size < 1 || t.size > 8 || (t.size & (t.size - 1))) return { type: 'unknown', signed: false };
      return { type: 'int', signed: !!(t.encoding & BTF_INT_SIGNED) };
    case BtfKind.ENUM:
    case BtfKind.ENUM64:
      return { type: t.name === 'libbpf_tristate' && (t.kind === BtfKind.ENUM64 || t.size === 4) ? 'tristate' : 'unknown', signed: false };
    case BtfKind.ARRAY:
      if (t.nelems === 0) return { type: 'unknown', signed: false };
      return { type: kconfigType(btf, t.type).type === 'char' ? 'char_array' : 'unknown', signed: false };
    default:
      return { type: 'unknown', signed: false };
  }
}

/** Which DATASEC (`.kconfig`, `.ksyms`) holds BTF type `id`? */
function datasecOf(btf: Btf, id: number): string | undefined {
  for (const name of ['.kconfig', '.ksyms']) {
    const ds = btf.findByName(name, BtfKind.DATASEC) as BtfDatasec | undefined;
    if (ds?.vars.some((v) => v.type === id)) return name;
  }
  return undefined;
}

/**
 * Collect the object's externs (undefined global symbols) and lay out the `.kconfig` map.
 * Returns the externs and the map (undefined when there are no kconfig externs).
 */
export function collectExterns(symbols: readonly ElfSymbol[], btf: Btf | undefined, objName: string): { externs: ExternSpec[]; kconfigMap?: MapSpec } {
  const undef = symbols.filter((s) => s.index !== 0 && s.shndx === SHN_UNDEF && s.name && (s.bind === STB_GLOBAL || s.bind === STB_WEAK));
  if (!undef.length) return { externs: [] };
  if (!btf) throw new ObjectError(`extern '${undef[0]!.name}' needs BTF to be resolved (compile with -g)`);
  const externs: ExternSpec[] = [];
  for (const s of undef) {
    const cands = btf.findAllByName(s.name).filter((t) => t.kind === BtfKind.VAR || t.kind === BtfKind.FUNC);
    const t = cands.find((c) => datasecOf(btf, c.id)) ?? cands.find((c) => c.kind === BtfKind.FUNC);
    if (!t) throw new ObjectError(`extern '${s.name}' has no BTF VAR or FUNC`);
    const sec = datasecOf(btf, t.id);
    const weak = s.bind === STB_WEAK;
    if (sec === '.kconfig') {
      if (t.kind !== BtfKind.VAR) throw new ObjectError(`extern '${s.name}' in .kconfig is not a variable`);
      const k = kconfigType(btf, t.type);
      if (k.type === 'unknown') throw new ObjectError(`kconfig extern '${s.name}' has a type libbpf cannot fill (bool, tristate, char, integer or char array)`);
      if (s.name === 'LINUX_KERNEL_VERSION' && (k.type !== 'int' || btf.sizeof(t.type) !== 4 || k.signed)) {
        throw new ObjectError('extern LINUX_KERNEL_VERSION must be an unsigned int');
      }
      externs.push({ name: s.name, kind: 'kconfig', weak, btfId: t.id, func: false, kconfigType: k.type, size: btf.sizeof(t.type), align: btf.alignof(t.type), signed: k.signed, offset: 0 });
    } else {
      // .ksyms, or a kfunc declared without __ksym (clang still emits an extern FUNC)
      externs.push({ name: s.name, kind: 'ksym', weak, btfId: t.id, func: t.kind === BtfKind.FUNC, size: 0, align: 0, signed: false, offset: 0 });
    }
  }
  // libbpf's cmp_externs: kconfig first; by alignment (descending), size (ascending), then name.
  externs.sort((a, b) => {
    if (a.kind !== b.kind) return a.kind === 'kconfig' ? -1 : 1;
    if (a.kind === 'kconfig' && a.align !== b.align) return b.align - a.align;
    if (a.kind === 'kconfig' && a.size !== b.size) return a.size - b.size;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
  let off = 0;
  for (const e of externs) {
    if (e.kind !== 'kconfig') continue;
    off = Math.ceil(off / e.align) * e.align;
    e.offset = off;
    off += e.size;
  }
  const kc = externs.filter((e) => e.kind === 'kconfig');
  if (!kc.length) return { externs };
  const datasec = btf.findByName('.kconfig', BtfKind.DATASEC);
  const kconfigMap: MapSpec = {
    name: internalMapName(objName, '.kconfig'), section: '.kconfig', origin: 'kconfig', type: MapType.ARRAY, keySize: 4,
    valueSize: off, maxEntries: 1, flags: BPF_F_RDONLY_PROG | BPF_F_MMAPABLE, numaNode: 0, pinning: 0, mapExtra: 0n,
    btfKeyTypeId: 0, btfValueTypeId: datasec?.id ?? 0, initSlots: [], contents: new Uint8Array(off), frozen: true,
  };
  return { externs, kconfigMap };
}

/** Parse a kernel config (/proc/config.gz text, /boot/config-*): `CONFIG_X=value` lines. */
export function parseKconfig(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq > 0) out.set(line.slice(0, eq), line.slice(eq + 1));
  }
  return out;
}

export interface ExternValues {
  /** CONFIG_* → value as written in the kernel config ('y', 'm', '1000', '"str"'); may also set LINUX_HAS_* */
  kconfig: Map<string, string>;
  /** LINUX_VERSION_CODE: (major << 16) | (minor << 8) | patch */
  kernelVersion: number;
}

const KV = (a: number, b: number) => (a << 16) | (b << 8);

/**
 * libbpf's own kconfig externs, which it answers by probing the kernel. Without a value in
 * `kconfig` they follow the kernel version: bpf_get_attach_cookie came in 5.15, syscall wrappers
 * (pt_regs-taking __<arch>_sys_* functions, what BPF_KSYSCALL reads through) in 4.17.
 */
const LIBBPF_FEATURES: Record<string, (kernelVersion: number) => boolean> = {
  LINUX_HAS_BPF_COOKIE: (v) => v >= KV(5, 15),
  LINUX_HAS_SYSCALL_WRAPPER: (v) => v >= KV(4, 17),
};

/**
 * Write kconfig extern values into the .kconfig map's initial data, with libbpf's rules for each
 * type. A non-weak extern without a value is an error; a weak one stays 0.
 */
export function resolveExterns(spec: CollectionSpec, values: ExternValues): void {
  const map = spec.maps.find((m) => m.origin === 'kconfig');
  const kc = spec.externs.filter((e) => e.kind === 'kconfig');
  if (!kc.length) return;
  if (!map?.contents) throw new ObjectError('kconfig externs without a .kconfig map');
  const buf = map.contents;
  buf.fill(0);
  for (const e of kc) {
    if (e.name === 'LINUX_KERNEL_VERSION') {
      writeInt(buf, e, BigInt(values.kernelVersion >>> 0));
      continue;
    }
    let v = values.kconfig.get(e.name);
    if (v === undefined && LIBBPF_FEATURES[e.name]) v = LIBBPF_FEATURES[e.name]!(values.kernelVersion) ? 'y' : 'n';
    if (v === undefined) {
      if (!e.weak) throw new ObjectError(`kconfig extern '${e.name}' is not set in the kernel config (declare it __weak to default to 0)`);
      continue;
    }
    setKconfigValue(buf, e, v);
  }
}

function setKconfigValue(buf: Uint8Array, e: ExternSpec, v: string): void {
  const t = e.kconfigType!;
  if (v === 'y' || v === 'n' || v === 'm') {
    if (t === 'bool') {
      if (v === 'm') throw new ObjectError(`kconfig extern '${e.name}' is bool but the kernel config says 'm'`);
      buf[e.offset] = v === 'y' ? 1 : 0;
    } else if (t === 'tristate') {
      writeInt(buf, e, v === 'y' ? 1n : v === 'm' ? 2n : 0n);
    } else if (t === 'char') {
      buf[e.offset] = v.charCodeAt(0);
    } else {
      throw new ObjectError(`kconfig extern '${e.name}' (${t}) cannot take the value '${v}'`);
    }
    return;
  }
  if (v.startsWith('"')) {
    if (t !== 'char_array') throw new ObjectError(`kconfig extern '${e.name}' (${t}) cannot take the string ${v}`);
    if (v.length < 2 || !v.endsWith('"')) throw new ObjectError(`kconfig extern '${e.name}': invalid string ${v}`);
    const bytes = new TextEncoder().encode(v.slice(1, -1));
    // truncated to leave room for the NUL, as libbpf does
    buf.set(bytes.subarray(0, e.size - 1), e.offset);
    return;
  }
  const n = parseCNumber(v);
  if (n === undefined) throw new ObjectError(`kconfig extern '${e.name}': cannot parse value '${v}'`);
  if (t !== 'int' && t !== 'char' && !(t === 'bool' && n >= 0n && n <= 1n)) {
    throw new ObjectError(`kconfig extern '${e.name}' (${t}) cannot take the number ${v}`);
  }
  // libbpf's is_kcfg_value_in_range, on the value as strtoull would hold it
  const bits = BigInt(e.size * 8);
  const u = BigInt.asUintN(64, n);
  const fits = e.size === 8 || (e.signed ? BigInt.asUintN(64, u + (1n << (bits - 1n))) < 1n << bits : u >> bits === 0n);
  if (!fits) throw new ObjectError(`kconfig extern '${e.name}': value ${v} does not fit ${e.signed ? 'signed' : 'unsigned'} ${e.size} bytes`);
  writeInt(buf, e, n);
}

/** strtoull(value, 0)-style: decimal, 0x hex, leading-0 octal, optional sign. */
function parseCNumber(v: string): bigint | undefined {
  const m = /^([-+]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(v.trim());
  if (!m) return undefined;
  const body = m[2]!;
  const n = body.length > 1 && body[0] === '0' && !/^0[xX]/.test(body) ? BigInt('0o' + body.slice(1)) : BigInt(body);
  return m[1] === '-' ? -n : n;
}

function writeInt(buf: Uint8Array, e: ExternSpec, n: bigint): void {
  let u = BigInt.asUintN(e.size * 8, n);
  for (let i = 0; i < e.size; i++, u >>= 8n) buf[e.offset + i] = Number(u & 0xffn);
}

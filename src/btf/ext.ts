// Parse .BTF.ext (struct btf_ext_header): per ELF section, the func_info, line_info and CO-RE
// relocation records clang emits. Strings (section names, file names, source lines, access strings)
// live in the .BTF string section, so the object's Btf is needed to read them.
import type { Btf } from './btf.js';
import { BtfError } from './error.js';
import { BTF_MAGIC } from './types.js';

/** enum bpf_core_relo_kind */
export enum CoreReloKind {
  FIELD_BYTE_OFFSET = 0,
  FIELD_BYTE_SIZE = 1,
  FIELD_EXISTS = 2,
  FIELD_SIGNED = 3,
  FIELD_LSHIFT_U64 = 4,
  FIELD_RSHIFT_U64 = 5,
  TYPE_ID_LOCAL = 6,
  TYPE_ID_TARGET = 7,
  TYPE_EXISTS = 8,
  TYPE_SIZE = 9,
  ENUMVAL_EXISTS = 10,
  ENUMVAL_VALUE = 11,
  TYPE_MATCHES = 12,
}

/**
 * struct bpf_func_info. insnOff is in BYTES from the section start as a .BTF.ext holds it, in
 * instruction slots of the linked program where the kernel takes it (ProgramSpec, BPF_PROG_LOAD).
 */
export interface FuncInfo {
  insnOff: number;
  typeId: number;
}

/** struct bpf_line_info as the kernel takes it (insnOff: see FuncInfo). */
export interface LineInfoRecord {
  insnOff: number;
  fileNameOff: number;
  lineOff: number;
  /** raw line_col: line << 10 | column */
  lineCol: number;
}

/** struct bpf_line_info with its strings resolved. */
export interface LineInfo extends LineInfoRecord {
  fileName: string;
  /** the source line's text */
  line: string;
  lineNum: number;
  col: number;
}

/** struct bpf_core_relo; insnOff in bytes as in the ELF file */
export interface CoreRelo {
  insnOff: number;
  typeId: number;
  accessStrOff: number;
  /** "0:1:2" for fields, "0" for types, enumerator index for enum values */
  accessStr: string;
  kind: CoreReloKind;
}

export interface BtfExt {
  /** record sizes as written in the file (they may exceed what this code reads) */
  funcInfoRecSize: number;
  lineInfoRecSize: number;
  coreReloRecSize: number;
  /** ELF section name -> records, in file order */
  funcInfo: Map<string, FuncInfo[]>;
  lineInfo: Map<string, LineInfo[]>;
  coreRelos: Map<string, CoreRelo[]>;
}

const HDR_MIN = 24;
const HDR_CORE = 32;

export function parseBtfExt(bytes: Uint8Array, btf: Btf): BtfExt {
  if (bytes.length < HDR_MIN) throw new BtfError(`.BTF.ext too short for a header: ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let le: boolean;
  if (view.getUint16(0, true) === BTF_MAGIC) le = true;
  else if (view.getUint16(0, false) === BTF_MAGIC) le = false;
  else throw new BtfError(`bad .BTF.ext magic 0x${view.getUint16(0, true).toString(16)}`);
  if (view.getUint8(2) !== 1) throw new BtfError(`unsupported .BTF.ext version ${view.getUint8(2)}`);
  const hdrLen = view.getUint32(4, le);
  if (hdrLen < HDR_MIN || hdrLen > bytes.length) throw new BtfError(`bad .BTF.ext header length ${hdrLen}`);
  const u32 = (o: number) => view.getUint32(o, le);
  const str = (off: number, what: string) => {
    try {
      return btf.string(off);
    } catch (e) {
      throw new BtfError(`.BTF.ext ${what}: string offset ${off} not in .BTF strings (${(e as Error).message})`);
    }
  };

  const ext: BtfExt = {
    funcInfoRecSize: 0,
    lineInfoRecSize: 0,
    coreReloRecSize: 0,
    funcInfo: new Map(),
    lineInfo: new Map(),
    coreRelos: new Map(),
  };

  // Walks one info block: rec_size, then { sec_name_off, num_info, records[] }*.
  const walk = (what: string, off: number, len: number, minRec: number, rec: (p: number, sec: string) => void): number => {
    if (len === 0) return 0;
    const start = hdrLen + off;
    const end = start + len;
    if (off % 4 !== 0) throw new BtfError(`.BTF.ext ${what}: offset ${off} not 4-byte aligned`);
    if (end > bytes.length || end < start) throw new BtfError(`.BTF.ext ${what}: [${off}, +${len}) beyond ${bytes.length - hdrLen} data bytes`);
    if (len < 4) throw new BtfError(`.BTF.ext ${what}: too short for a record size`);
    const recSize = u32(start);
    if (recSize < minRec || recSize % 4 !== 0) throw new BtfError(`.BTF.ext ${what}: bad record size ${recSize} (need >= ${minRec})`);
    for (let p = start + 4; p < end; ) {
      if (p + 8 > end) throw new BtfError(`.BTF.ext ${what}: truncated section header`);
      const sec = str(u32(p), `${what} section name`);
      const num = u32(p + 4);
      p += 8;
      if (num === 0) throw new BtfError(`.BTF.ext ${what}: section '${sec}' has no records`);
      if (num > (end - p) / recSize) throw new BtfError(`.BTF.ext ${what}: section '${sec}' claims ${num} records, only ${Math.floor((end - p) / recSize)} fit`);
      for (let i = 0; i < num; i++, p += recSize) rec(p, sec);
    }
    return recSize;
  };
  const push = <T>(m: Map<string, T[]>, sec: string, v: T) => {
    const a = m.get(sec);
    if (a) a.push(v);
    else m.set(sec, [v]);
  };

  ext.funcInfoRecSize = walk('func_info', u32(8), u32(12), 8, (p, sec) =>
    push(ext.funcInfo, sec, { insnOff: u32(p), typeId: u32(p + 4) }),
  );
  ext.lineInfoRecSize = walk('line_info', u32(16), u32(20), 16, (p, sec) => {
    const lineCol = u32(p + 12);
    push(ext.lineInfo, sec, {
      insnOff: u32(p),
      fileNameOff: u32(p + 4),
      lineOff: u32(p + 8),
      lineCol,
      fileName: str(u32(p + 4), 'line_info file name'),
      line: str(u32(p + 8), 'line_info line'),
      lineNum: lineCol >>> 10,
      col: lineCol & 0x3ff,
    });
  });
  if (hdrLen >= HDR_CORE) {
    ext.coreReloRecSize = walk('core_relo', u32(24), u32(28), 16, (p, sec) => {
      const kind = u32(p + 12);
      if (kind > CoreReloKind.TYPE_MATCHES) throw new BtfError(`.BTF.ext core_relo in '${sec}': unknown relocation kind ${kind}`);
      push(ext.coreRelos, sec, {
        insnOff: u32(p),
        typeId: u32(p + 4),
        accessStrOff: u32(p + 8),
        accessStr: str(u32(p + 8), 'core_relo access string'),
        kind,
      });
    });
  }
  return ext;
}

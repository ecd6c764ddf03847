// A BPF program loaded in the kernel: owns its fd. What the object loader and the tools call.
import type { FuncInfo, LineInfoRecord } from '../btf/ext.js';
import { encode, type Instruction } from '../isa/instruction.js';
import { bpf_func_info, bpf_line_info } from '../uapi/bpf-abi.js';
import type { FieldName, Layout } from '../uapi/layout.js';
import { AttachType, BpfCmd, ProgramType } from '../uapi/bpf.js';
import { getFdById, objGet, objPin, progLoad, progTestRun, type TestRunResult } from '../sys/bpf.js';
import { Errno, HINT_FENTRY_DENIED } from '../sys/errors.js';
import { closeFd, type Fd } from '../sys/fds.js';
import { progInfo, type ProgInfo } from '../sys/info.js';

export interface ProgramLoadOptions {
  type: ProgramType;
  instructions: readonly Instruction[] | Uint8Array;
  license: string;
  name?: string;
  expectedAttachType?: AttachType;
  attachBtfId?: number;
  attachBtfObjFd?: Fd;
  attachProgFd?: Fd;
  btfFd?: Fd;
  funcInfo?: readonly FuncInfo[] | Uint8Array;
  lineInfo?: readonly LineInfoRecord[] | Uint8Array;
  kernelVersion?: number;
  flags?: number;
  ifindex?: number;
  fdArray?: readonly number[];
  /** verifier log level for a successful load too (its log is then in program.verifierLog) */
  logLevel?: number;
  /** source text of an instruction slot, for verifier errors */
  lineSource?: (slot: number) => string | undefined;
}

/** Records in the kernel's layout (struct bpf_func_info, bpf_line_info: src/uapi/bpf-abi.ts). */
function records<T, L extends Layout>(list: readonly T[] | Uint8Array | undefined, layout: L, fields: Record<FieldName<L>, (r: T) => number>): Uint8Array | undefined {
  if (!list || list instanceof Uint8Array) return list;
  const b = new Uint8Array(list.length * layout.sizeof);
  const v = new DataView(b.buffer);
  list.forEach((r, i) => {
    for (const [name, get] of Object.entries<(r: T) => number>(fields)) v.setUint32(i * layout.sizeof + layout.fields[name]!.offset, get(r), true);
  });
  return b;
}

const funcInfoBytes = (f: readonly FuncInfo[] | Uint8Array | undefined): Uint8Array | undefined =>
  records(f, bpf_func_info, { insn_off: (r) => r.insnOff, type_id: (r) => r.typeId });

const lineInfoBytes = (l: readonly LineInfoRecord[] | Uint8Array | undefined): Uint8Array | undefined =>
  records(l, bpf_line_info, { insn_off: (r) => r.insnOff, file_name_off: (r) => r.fileNameOff, line_off: (r) => r.lineOff, line_col: (r) => r.lineCol });

const FENTRY_LIKE = new Set([AttachType.TRACE_FENTRY, AttachType.TRACE_FEXIT, AttachType.MODIFY_RETURN]);

export interface TestRunOptions {
  repeat?: number;
  ctx?: Uint8Array;
  ctxOutSize?: number;
  dataOutSize?: number;
  flags?: number;
  cpu?: number;
}

export class Program {
  private _fd: Fd | -1;
  /** the verifier log of the load, when loaded with logLevel > 0 */
  verifierLog: string | undefined;

  constructor(fd: Fd, readonly type: ProgramType, readonly name: string, readonly expectedAttachType?: AttachType, readonly attachBtfId?: number) {
    this._fd = fd;
  }

  get fd(): Fd {
    if (this._fd === -1) throw new Error(`program ${this.name}: used after close()`);
    return this._fd;
  }

  get closed(): boolean {
    return this._fd === -1;
  }

  static load(o: ProgramLoadOptions): Program {
    const insns = o.instructions instanceof Uint8Array ? o.instructions : encode(o.instructions);
    const logOut = { log: '' };
    const hint = o.type === ProgramType.TRACING && o.expectedAttachType !== undefined && FENTRY_LIKE.has(o.expectedAttachType)
      ? (errno: number) => (errno === Errno.EPERM ? HINT_FENTRY_DENIED : undefined)
      : undefined;
    const fd = progLoad(
      {
        type: o.type,
        insns,
        license: o.license,
        name: o.name,
        expectedAttachType: o.expectedAttachType,
        attachBtfId: o.attachBtfId,
        attachBtfObjFd: o.attachBtfObjFd,
        attachProgFd: o.attachProgFd,
        btfFd: o.btfFd,
        funcInfo: funcInfoBytes(o.funcInfo),
        lineInfo: lineInfoBytes(o.lineInfo),
        kernVersion: o.kernelVersion,
        flags: o.flags,
        ifindex: o.ifindex,
        fdArray: o.fdArray ? Int32Array.from(o.fdArray) : undefined,
        logLevel: o.logLevel,
        lineSource: o.lineSource,
        logOut,
      },
      hint,
    );
    const p = new Program(fd, o.type, o.name ?? '', o.expectedAttachType, o.attachBtfId);
    if (o.logLevel) p.verifierLog = logOut.log;
    return p;
  }

  /** A loaded program by id (takes a new fd on it). */
  static fromId(id: number): Program {
    const fd = getFdById(BpfCmd.PROG_GET_FD_BY_ID, id);
    return Program.fromFd(fd);
  }

  /** A program pinned in bpffs. */
  static fromPin(path: string): Program {
    return Program.fromFd(objGet(path));
  }

  /** Wrap an fd tsbpf owns (it is closed with the Program). */
  static fromFd(fd: Fd): Program {
    try {
      const i = progInfo(fd);
      return new Program(fd, i.type, i.name);
    } catch (e) {
      closeFd(fd);
      throw e;
    }
  }

  /** BPF_PROG_TEST_RUN on `data` (a packet for network programs) and/or ctx. */
  testRun(data?: Uint8Array, o: TestRunOptions = {}): TestRunResult {
    return progTestRun(this.fd, { data, ...o });
  }

  pin(path: string): void {
    objPin(this.fd, path);
  }

  info(opts: { xlated?: boolean } = {}): ProgInfo {
    return progInfo(this.fd, opts);
  }

  get id(): number {
    return this.info().id;
  }

  close(): void {
    closeFd(this._fd);
    this._fd = -1;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

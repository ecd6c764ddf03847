// Named constants a script may use bare: the C macros of the kernel headers bpftrace's tools
// #include (there is no C preprocessor here: the common ones), and the enum values of kernel BTF.
import type { Btf } from '../../btf/btf.js';
import { BtfKind } from '../../btf/types.js';

const MACROS: Readonly<Record<string, number>> = {
  TASK_RUNNING: 0, TASK_INTERRUPTIBLE: 1, TASK_UNINTERRUPTIBLE: 2, __TASK_STOPPED: 4, __TASK_TRACED: 8, EXIT_DEAD: 16, EXIT_ZOMBIE: 32,
  TASK_PARKED: 64, TASK_DEAD: 128, TASK_WAKEKILL: 256, TASK_WAKING: 512, TASK_NOLOAD: 1024, TASK_NEW: 2048,
  AF_UNSPEC: 0, AF_UNIX: 1, AF_INET: 2, AF_INET6: 10, AF_NETLINK: 16, AF_PACKET: 17,
  O_RDONLY: 0, O_WRONLY: 1, O_RDWR: 2, O_CREAT: 0o100, O_EXCL: 0o200, O_TRUNC: 0o1000, O_APPEND: 0o2000,
  SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGHUP: 1, SIGSTOP: 19, SIGCONT: 18, SIGUSR1: 10, SIGUSR2: 12,
  PAGE_SIZE: 4096, NSEC_PER_SEC: 1000000000, NSEC_PER_MSEC: 1000000, NSEC_PER_USEC: 1000, USEC_PER_SEC: 1000000,
};

/** Named constants: macros first, then kernel enum values (BTF read once, when a macro does not match). */
export class Constants {
  private enums: Map<string, bigint> | undefined;

  constructor(private readonly btf: () => Btf | undefined, private readonly script: ReadonlyMap<string, bigint> = new Map()) {}

  get(name: string): bigint | undefined {
    const own = this.script.get(name);
    if (own !== undefined) return own;
    const m = MACROS[name];
    if (m !== undefined) return BigInt(m);
    const btf = this.btf();
    if (!btf) return undefined;
    if (!this.enums) {
      this.enums = new Map();
      for (const t of btf.types) {
        if (t.kind === BtfKind.ENUM || t.kind === BtfKind.ENUM64) for (const v of t.values) if (!this.enums.has(v.name)) this.enums.set(v.name, BigInt(v.value));
      }
    }
    return this.enums.get(name);
  }
}

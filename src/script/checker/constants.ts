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
  // errno values (asm-generic/errno-base.h, errno.h): `--include errno.h` scripts use them
  EPERM: 1, ENOENT: 2, ESRCH: 3, EINTR: 4, EIO: 5, ENXIO: 6, E2BIG: 7, ENOEXEC: 8, EBADF: 9, ECHILD: 10, EAGAIN: 11, EWOULDBLOCK: 11,
  ENOMEM: 12, EACCES: 13, EFAULT: 14, EBUSY: 16, EEXIST: 17, EXDEV: 18, ENODEV: 19, ENOTDIR: 20, EISDIR: 21, EINVAL: 22, ENFILE: 23,
  EMFILE: 24, ENOTTY: 25, EFBIG: 27, ENOSPC: 28, ESPIPE: 29, EROFS: 30, EMLINK: 31, EPIPE: 32, EDOM: 33, ERANGE: 34, EDEADLK: 35,
  ENAMETOOLONG: 36, ENOLCK: 37, ENOSYS: 38, ENOTEMPTY: 39, ELOOP: 40, EOPNOTSUPP: 95, ENOTSUP: 95, EADDRINUSE: 98, EADDRNOTAVAIL: 99,
  ENETUNREACH: 101, ECONNABORTED: 103, ECONNRESET: 104, ENOBUFS: 105, EISCONN: 106, ENOTCONN: 107, ETIMEDOUT: 110, ECONNREFUSED: 111,
  EHOSTUNREACH: 113, EALREADY: 114, EINPROGRESS: 115,
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

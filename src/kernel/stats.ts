// BPF_ENABLE_STATS(BPF_STATS_RUN_TIME): while one is open, every program counts its runs and run
// time (bpf_prog_info's run_cnt and run_time_ns, two clock reads a run), as bpftool prog profile and
// monitoring agents use it. Closing it (or the process ending) turns the counting off again.
import { enableStats } from '../sys/bpf.js';
import { closeFd, type Fd } from '../sys/fds.js';

/** enum bpf_stats_type */
const BPF_STATS_RUN_TIME = 0;

export class RunTimeStats {
  private fd: Fd | -1;

  private constructor(fd: Fd) {
    this.fd = fd;
  }

  /** Turns run-time statistics on (needs CAP_SYS_ADMIN); throws a SyscallError where the kernel refuses. */
  static enable(): RunTimeStats {
    return new RunTimeStats(enableStats(BPF_STATS_RUN_TIME));
  }

  get closed(): boolean {
    return this.fd === -1;
  }

  close(): void {
    closeFd(this.fd);
    this.fd = -1;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

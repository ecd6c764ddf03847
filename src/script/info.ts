// `tsbpf trace --info`: what this kernel offers scripts, laid out as bpftrace's --info (System, Build,
// Kernel helpers, Kernel features, Map types, Probe types), every answer found by trying.
import { readFileSync } from 'node:fs';
import { arch } from 'node:os';
import { btf, fentry, hasKprobes, hasUprobePmu, helper, kprobeMulti, mapType, programType, uprobeMulti } from '../kernel/features.js';
import { MapType, ProgramType } from '../uapi/bpf.js';

const yes = (ok: boolean): string => (ok ? 'yes' : 'no');

// helper ids (include/uapi/linux/bpf.h), as bpftrace names them
const HELPERS: [string, number, ProgramType][] = [
  ['probe_read', 4, ProgramType.KPROBE], ['probe_read_str', 45, ProgramType.KPROBE],
  ['probe_read_user', 112, ProgramType.KPROBE], ['probe_read_user_str', 114, ProgramType.KPROBE],
  ['probe_read_kernel', 113, ProgramType.KPROBE], ['probe_read_kernel_str', 115, ProgramType.KPROBE],
  ['get_current_cgroup_id', 80, ProgramType.KPROBE], ['send_signal', 109, ProgramType.KPROBE],
  ['override_return', 58, ProgramType.KPROBE], ['get_boot_ns', 125, ProgramType.KPROBE],
  ['dpath', 147, ProgramType.TRACING], ['skboutput', 111, ProgramType.TRACING],
];

export function infoText(version: string): string {
  const k = (f: string): string => readFileSync(`/proc/sys/kernel/${f}`, 'utf8').trim();
  const out: string[] = [];
  out.push('System', `  OS: ${k('ostype')} ${k('osrelease')} ${k('version')}`, `  Arch: ${arch() === 'x64' ? 'x86_64' : arch() === 'arm64' ? 'aarch64' : arch()}`, '');
  out.push('Build', `  version: ${version}`, '  LLVM: none (tsbpf compiles scripts itself)', '  unsafe uprobe: no', '  bfd: no', '  libdw (DWARF support): yes (tsbpf\'s own reader)', '');
  out.push('Kernel helpers');
  for (const [name, id, type] of HELPERS) out.push(`  ${name}: ${yes(helper(type, id).ok)}`);
  out.push('');
  out.push('Kernel features', '  Instruction limit: 1000000', '  Loop support: yes', `  btf: ${yes(btf().ok)}`, '  map batch: yes', '');
  out.push('Map types');
  for (const [name, t] of [['hash', MapType.HASH], ['percpu hash', MapType.PERCPU_HASH], ['array', MapType.ARRAY], ['percpu array', MapType.PERCPU_ARRAY], ['stack_trace', MapType.STACK_TRACE], ['perf_event_array', MapType.PERF_EVENT_ARRAY], ['ringbuf', MapType.RINGBUF]] as const) {
    out.push(`  ${name}: ${yes(mapType(t).ok)}`);
  }
  out.push('');
  out.push('Probe types', `  kprobe: ${yes(hasKprobes())}`, `  uprobe: ${yes(hasUprobePmu())}`, `  tracepoint: ${yes(programType(ProgramType.TRACEPOINT).ok)}`);
  out.push(`  perf_event: ${yes(programType(ProgramType.PERF_EVENT).ok)}`, `  kfunc: ${yes(fentry().ok)}`);
  out.push(`  kprobe_multi: ${yes(kprobeMulti().ok)}`, `  uprobe_multi: ${yes(uprobeMulti().ok)}`, `  raw_tp_special: ${yes(programType(ProgramType.RAW_TRACEPOINT).ok)}`);
  return `${out.join('\n')}\n`;
}


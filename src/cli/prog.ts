// tsbpf prog list | show ID: the kernel's loaded programs, laid out like bpftool's.
import type { Command } from 'commander';
import { listPrograms, progInfo, type ProgInfo } from '../sys/info.js';
import { getFdById } from '../sys/bpf.js';
import { closeFd } from '../sys/fds.js';
import { BpfCmd } from '../uapi/bpf.js';
import { objectsCommand, out, toJson } from './format.js';

function describe(p: ProgInfo): string {
  const head = `${p.id}: ${p.typeName.toLowerCase()}  name ${p.name || '<anon>'}  tag ${p.tag}${p.gplCompatible ? '  gpl' : ''}`;
  const when = `\tloaded_at ${p.loadedAt.toISOString().replace(/\.\d+Z$/, 'Z')}  uid ${p.createdByUid}`;
  const size = `\txlated ${p.xlatedProgLen}B  ${p.jitedProgLen ? `jited ${p.jitedProgLen}B` : 'not jited'}${p.mapIds.length ? `  map_ids ${p.mapIds.join(',')}` : ''}${p.btfId ? `\n\tbtf_id ${p.btfId}` : ''}`;
  const stats = p.runCnt ? `\n\trun_time_ns ${p.runTimeNs}  run_cnt ${p.runCnt}` : '';
  return `${head}\n${when}\n${size}${stats}`;
}

const asJson = (p: ProgInfo): Record<string, unknown> => ({
  id: p.id, type: p.typeName.toLowerCase(), name: p.name, tag: p.tag, gpl_compatible: p.gplCompatible,
  loaded_at: p.loadedAt.toISOString(), uid: p.createdByUid, bytes_xlated: p.xlatedProgLen, jited: p.jitedProgLen > 0,
  bytes_jited: p.jitedProgLen, map_ids: p.mapIds, btf_id: p.btfId, run_time_ns: p.runTimeNs, run_cnt: p.runCnt,
});

export function progCommand(): Command {
  const cmd = objectsCommand('prog', 'list and show loaded BPF programs', 'every loaded program', listPrograms, describe, asJson);
  cmd.command('show').description('one program by id').argument('<id>', 'program id').option('--json', 'a JSON object').action((id: string, o: { json?: boolean }) => {
    const n = Number(id);
    if (!Number.isInteger(n) || n <= 0) throw new Error(`prog show: '${id}' is not a program id`);
    const fd = getFdById(BpfCmd.PROG_GET_FD_BY_ID, n);
    try {
      const p = progInfo(fd);
      out(o.json ? toJson(asJson(p)) : describe(p));
    } finally {
      closeFd(fd);
    }
  });
  return cmd;
}

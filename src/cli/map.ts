// tsbpf map list | dump ID|NAME: the kernel's maps, laid out like bpftool's; contents decoded with
// the map's BTF when it has one.
import type { Command } from 'commander';
import { listMaps, mapInfo, type MapInfo } from '../sys/info.js';
import { btfBytesById } from '../sys/btf-bytes.js';
import { parseBtf } from '../btf/parse.js';
import { compileCodec } from '../btf/codec.js';
import { BpfMap } from '../maps/map.js';
import { u32 } from '../maps/codec.js';
import { MapType } from '../uapi/bpf.js';
import { formatValue, objectsCommand, out, toJson } from './format.js';

function describe(m: MapInfo): string {
  return `${m.id}: ${m.typeName.toLowerCase()}  name ${m.name || '<anon>'}  flags 0x${m.flags.toString(16)}\n\tkey ${m.keySize}B  value ${m.valueSize}B  max_entries ${m.maxEntries}${m.btfId ? `\n\tbtf_id ${m.btfId}` : ''}`;
}

const asJson = (m: MapInfo): Record<string, unknown> => ({
  id: m.id, type: m.typeName.toLowerCase(), name: m.name, flags: m.flags, bytes_key: m.keySize, bytes_value: m.valueSize,
  max_entries: m.maxEntries, btf_id: m.btfId,
});

/** Open a map by id or by (unique) name. */
function openMap(which: string): BpfMap<any, any> {
  const id = /^\d+$/.test(which) ? Number(which) : undefined;
  const matches = id !== undefined ? [{ id }] : listMaps().filter((m) => m.name === which);
  if (!matches.length) throw new Error(`map dump: no map ${id !== undefined ? `with id ${id}` : `named '${which}'`} (see tsbpf map list)`);
  if (matches.length > 1) throw new Error(`map dump: ${matches.length} maps are named '${which}' (ids ${matches.map((m) => m.id).join(', ')}): give an id`);
  const map = BpfMap.fromId(matches[0]!.id);
  const info = mapInfo(map.fd);
  // Global data maps have a value type and no key type: their key is a u32 index.
  if (!info.btfId || !info.btfValueTypeId || (!info.btfKeyTypeId && info.keySize !== 4)) return map;
  try {
    const btf = parseBtf(btfBytesById(info.btfId));
    return map.as(info.btfKeyTypeId ? compileCodec(btf, info.btfKeyTypeId) : u32, compileCodec(btf, info.btfValueTypeId));
  } catch {
    return map;
  }
}

const UNDUMPABLE = new Set([MapType.RINGBUF, MapType.PERF_EVENT_ARRAY, MapType.USER_RINGBUF]);

export function mapCommand(): Command {
  const cmd = objectsCommand('map', 'list and dump BPF maps', 'every map', listMaps, describe, asJson);
  cmd.command('dump').description('the entries of a map, by id or name').argument('<map>', 'map id or name').option('--json', 'a JSON array of {key, value}')
    .action((which: string, o: { json?: boolean }) => {
      const map = openMap(which);
      try {
        if (UNDUMPABLE.has(map.type)) throw new Error(`map dump: a ${MapType[map.type]} map has no entries to dump (read it with tsbpf run)`);
        const entries = [...(map.perCpu ? map.entriesPerCpu() : map.entries())];
        if (o.json) out(toJson(entries.map(([key, value]) => ({ key, value }))));
        else {
          for (const [k, v] of entries) out(`key: ${formatValue(k)}  value: ${formatValue(v)}`);
          out(`Found ${entries.length} element${entries.length === 1 ? '' : 's'}`);
        }
      } finally {
        map.close();
      }
    });
  return cmd;
}

// Names libbpf derives: the object name from a file name, and the kernel-visible names of the maps it
// makes for global data sections ("tcpconne.rodata").

/** BPF_OBJ_NAME_LEN: object names in the kernel hold 15 characters and a NUL. */
export const BPF_OBJ_NAME_LEN = 16;

/** libbpf's object name: the file's base name up to its first '.' (`tcpconnect.bpf.o` → `tcpconnect`). */
export function objectName(fileName: string): string {
  const base = fileName.slice(fileName.lastIndexOf('/') + 1);
  const dot = base.indexOf('.');
  return dot < 0 ? base : base.slice(0, dot);
}

/**
 * The map name libbpf gives a global-data section: up to 8 characters of the object name, then the
 * section name, with 7 characters reserved for the suffix (so `.bss` still gets only 8 of the object
 * name). Sections with a second '.' (`.data.custom`, `.rodata.str1.1`) get no prefix. Characters the
 * kernel refuses become '_'. At most 15 characters.
 */
export function internalMapName(objName: string, section: string): string {
  const sfxLen = Math.max(7, section.length);
  const pfxLen = sfxLen >= BPF_OBJ_NAME_LEN || section.indexOf('.', 1) >= 0 ? 0 : Math.min(BPF_OBJ_NAME_LEN - sfxLen - 1, objName.length);
  const name = (objName.slice(0, pfxLen) + section).slice(0, BPF_OBJ_NAME_LEN - 1);
  return name.replace(/[^A-Za-z0-9_.]/g, '_');
}

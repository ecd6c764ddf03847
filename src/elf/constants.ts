// ELF constants used by the reader and the object layer, under their <elf.h> names.

export const ELF_MAGIC = [0x7f, 0x45, 0x4c, 0x46] as const;
export const ELFCLASS64 = 2;
export const ELFDATA2LSB = 1;
export const EV_CURRENT = 1;

// e_type
export const ET_REL = 1;
export const ET_EXEC = 2;
export const ET_DYN = 3;

// e_machine
export const EM_X86_64 = 62;
export const EM_AARCH64 = 183;
export const EM_BPF = 247;

// Special section indices
export const SHN_UNDEF = 0;
export const SHN_LORESERVE = 0xff00;
export const SHN_ABS = 0xfff1;
export const SHN_COMMON = 0xfff2;
export const SHN_XINDEX = 0xffff;

// sh_type
export const SHT_NULL = 0;
export const SHT_PROGBITS = 1;
export const SHT_SYMTAB = 2;
export const SHT_STRTAB = 3;
export const SHT_RELA = 4;
export const SHT_NOTE = 7;
export const SHT_NOBITS = 8;
export const SHT_REL = 9;
export const SHT_DYNSYM = 11;
export const SHT_SYMTAB_SHNDX = 18;
export const SHT_LLVM_ADDRSIG = 0x6fff4c03;
export const SHT_GNU_VERDEF = 0x6ffffffd;
export const SHT_GNU_VERNEED = 0x6ffffffe;
export const SHT_GNU_VERSYM = 0x6fffffff;

// sh_flags
export const SHF_WRITE = 0x1n;
export const SHF_ALLOC = 0x2n;
export const SHF_EXECINSTR = 0x4n;

// p_type, p_flags
export const PT_LOAD = 1;
export const PT_NOTE = 4;
export const PF_X = 1;

// Symbol binding, type, visibility
export const STB_LOCAL = 0;
export const STB_GLOBAL = 1;
export const STB_WEAK = 2;
export const STT_NOTYPE = 0;
export const STT_OBJECT = 1;
export const STT_FUNC = 2;
export const STT_SECTION = 3;
export const STT_FILE = 4;
export const STT_GNU_IFUNC = 10;
export const STV_DEFAULT = 0;
export const STV_HIDDEN = 2;

// Version symbol flags (.gnu.version)
export const VERSYM_HIDDEN = 0x8000;
export const VER_NDX_LOCAL = 0;
export const VER_NDX_GLOBAL = 1;

// BPF relocation types (llvm's BPFELFObjectWriter / the kernel's Documentation/bpf/llvm_reloc.rst)
export const R_BPF_NONE = 0;
export const R_BPF_64_64 = 1;
export const R_BPF_64_ABS64 = 2;
export const R_BPF_64_ABS32 = 3;
export const R_BPF_64_NODYLD32 = 4;
export const R_BPF_64_32 = 10;

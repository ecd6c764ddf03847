/** Malformed, truncated or unsupported ELF input. */
export class ElfError extends Error {
  override name = 'ElfError';
}

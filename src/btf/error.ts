// The one error type of the BTF layer: malformed input and unresolvable questions both end here.

export class BtfError extends Error {
  override name = 'BtfError';
}

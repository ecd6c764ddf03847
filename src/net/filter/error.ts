// A filter expression error that points at the offending token: `column` is 0-based into the
// expression, and the message ends with the expression and a caret under the token.
export class FilterSyntaxError extends Error {
  constructor(
    readonly reason: string,
    readonly expression: string,
    readonly column: number,
    readonly length = 1,
  ) {
    super(`${reason} at column ${column + 1}\n  ${expression}\n  ${' '.repeat(column)}${'^'.repeat(Math.max(1, length))}`);
    this.name = 'FilterSyntaxError';
  }
}

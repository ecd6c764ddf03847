// `--json` sinks: one JSON object per line for events, and separate lines for aggregations and lost
// events, so the same data can feed a terminal, a log pipeline or a metrics exporter.

export type Write = (line: string) => void;

/** JSON.stringify that keeps 64-bit integers: a safe bigint becomes a number, a larger one a string. */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'bigint') return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= -BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
    if (v instanceof Uint8Array) return Array.from(v);
    return v;
  });
}

/** Where a tool's output goes: events one by one, aggregations when printed, losses when seen. */
export interface Sink<E> {
  event(e: E): void;
  aggregation(name: string, data: unknown): void;
  lost(count: number | bigint): void;
}

/** A sink writing JSON lines: events as they are, aggregations as {type, name, data}, losses as {type, lost}. */
export class JsonLines<E extends object> implements Sink<E> {
  constructor(private readonly write: Write) {}

  event(e: E): void {
    this.write(toJson(e) + '\n');
  }

  aggregation(name: string, data: unknown): void {
    this.write(toJson({ type: 'aggregation', name, data }) + '\n');
  }

  lost(count: number | bigint): void {
    this.write(toJson({ type: 'lost', lost: count }) + '\n');
  }
}

// The agent's log: one JSON object per line on stderr ({"ts","level","msg",...fields}), levels as
// journald and log shippers read them; lines under the configured level are not written.
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];

export interface Logger {
  level: LogLevel;
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

// bigints (cgroup ids, counters) as JSON numbers would throw: written as strings
const replacer = (_k: string, v: unknown): unknown => (typeof v === 'bigint' ? v.toString() : v instanceof Error ? v.message : v);

export function jsonLogger(level: LogLevel = 'info', write: (line: string) => void = (l) => void process.stderr.write(l)): Logger {
  const log = {
    level,
    line(at: LogLevel, msg: string, fields?: Record<string, unknown>): void {
      if (LEVELS.indexOf(at) < LEVELS.indexOf(log.level)) return;
      write(JSON.stringify({ ts: new Date().toISOString(), level: at, msg, ...fields }, replacer) + '\n');
    },
    debug: (m: string, f?: Record<string, unknown>) => log.line('debug', m, f),
    info: (m: string, f?: Record<string, unknown>) => log.line('info', m, f),
    warn: (m: string, f?: Record<string, unknown>) => log.line('warn', m, f),
    error: (m: string, f?: Record<string, unknown>) => log.line('error', m, f),
  };
  return log;
}

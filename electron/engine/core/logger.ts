import { appendFileSync, mkdirSync, renameSync, statSync, existsSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Clock } from './clock.js';

/** Severity of a log record. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Structured logger: one JSON object per line. */
export interface Logger {
  log(level: LogLevel, msg: string, fields?: Record<string, unknown>): void;
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every record. */
  child(fields: Record<string, unknown>): Logger;
}

/** Options of the rotating file logger. */
export interface FileLoggerOptions {
  file: string;
  clock: Clock;
  level?: LogLevel;
  /** Rotate when the file exceeds this size (default 5 MiB). */
  maxBytes?: number;
  /** Keep this many rotated files: `.1` … `.N` (default 5). */
  keep?: number;
}

/**
 * A logger writing JSON lines to `file`, rotating it to `file.1`…`file.N` by size. Writes are
 * synchronous appends so a crash never loses the last records.
 */
export function createFileLogger(opts: FileLoggerOptions, base: Record<string, unknown> = {}): Logger {
  const maxBytes = opts.maxBytes ?? 5 * 1024 * 1024;
  const keep = opts.keep ?? 5;
  const min = ORDER[opts.level ?? 'info'];
  mkdirSync(dirname(opts.file), { recursive: true });
  let size = existsSync(opts.file) ? statSync(opts.file).size : 0;

  const rotate = () => {
    const last = `${opts.file}.${keep}`;
    if (existsSync(last)) rmSync(last, { force: true });
    for (let i = keep - 1; i >= 1; i--) {
      const from = `${opts.file}.${i}`;
      if (existsSync(from)) renameSync(from, `${opts.file}.${i + 1}`);
    }
    if (existsSync(opts.file)) renameSync(opts.file, `${opts.file}.1`);
    size = 0;
  };

  const make = (fields: Record<string, unknown>): Logger => {
    const log = (level: LogLevel, msg: string, extra?: Record<string, unknown>) => {
      if (ORDER[level] < min) return;
      const line = `${JSON.stringify({ t: new Date(opts.clock.now()).toISOString(), level, msg, ...fields, ...extra }, errorReplacer)}\n`;
      if (size + line.length > maxBytes && size > 0) rotate();
      try {
        appendFileSync(opts.file, line);
        size += Buffer.byteLength(line);
      } catch {
        // Logging must never take the engine down (disk full, folder removed).
      }
    };
    return {
      log,
      debug: (m, f) => log('debug', m, f),
      info: (m, f) => log('info', m, f),
      warn: (m, f) => log('warn', m, f),
      error: (m, f) => log('error', m, f),
      child: (f) => make({ ...fields, ...f }),
    };
  };
  return make(base);
}

/** A logger that drops everything (tests, tools). */
export const nullLogger: Logger = {
  log: () => {},
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => nullLogger,
};

function errorReplacer(_k: string, v: unknown): unknown {
  if (v instanceof Error) return { name: v.name, message: v.message, code: (v as { code?: unknown }).code };
  if (typeof v === 'bigint') return v.toString();
  return v;
}

import { pino, type Logger as Pino } from 'pino';
import type { Logger } from '../../engine/ports/index.ts';

/** The engine's Logger on pino (JSON lines on stderr). Level from SLUICE_LOG_LEVEL, default info. */
export function createLogger(opts: { level?: string; bindings?: Record<string, unknown> } = {}): Logger {
  const base = pino(
    { level: opts.level ?? process.env.SLUICE_LOG_LEVEL ?? 'info', base: { pid: process.pid, ...opts.bindings } },
    pino.destination({ dest: 2, sync: true }),
  );
  return wrap(base);
}

function wrap(p: Pino): Logger {
  return {
    debug: (msg, f) => p.debug(f ?? {}, msg),
    info: (msg, f) => p.info(f ?? {}, msg),
    warn: (msg, f) => p.warn(f ?? {}, msg),
    error: (msg, f) => p.error(f ?? {}, msg),
    child: (b) => wrap(p.child(b)),
  };
}

import type { Logger } from '../../engine/ports/index.ts';
import { EXIT } from './exit-codes.ts';

export { parseDuration } from '../config/duration.ts';

export interface ShutdownGate {
  /** Waits for SIGINT/SIGTERM (or returns at once if one already came), drains, and returns the exit code. */
  drainOnSignal(drain: () => Promise<void>, deadlineMs: number, log: Logger): Promise<number>;
}

/**
 * Installs SIGINT/SIGTERM handlers at once — so a signal that arrives while the engine is still starting is not
 * fatal — and drains when asked: finish the cycle in flight, flush acknowledgements, stop what was started. A drain
 * that outlives the deadline, or a second signal, ends with exit code 4 (forced).
 */
export function shutdownGate(say: (s: string) => void): ShutdownGate {
  let signalled: NodeJS.Signals | null = null;
  let onFirst: ((sig: NodeJS.Signals) => void) | null = null;
  let onSecond: (() => void) | null = null;
  const handler = (sig: NodeJS.Signals) => {
    if (signalled) {
      say(`${sig} again: forced stop`);
      onSecond?.();
      if (!onSecond) process.exit(EXIT.FORCED);
      return;
    }
    signalled = sig;
    onFirst?.(sig);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    drainOnSignal(drain, deadlineMs, log) {
      return new Promise((resolve) => {
        const start = (sig: NodeJS.Signals) => {
          say(
            `${sig}: draining (finishing the cycle in flight; ${Math.round(deadlineMs / 1000)} s deadline, Ctrl-C again to force)…`,
          );
          onSecond = () => resolve(EXIT.FORCED);
          const timer = setTimeout(() => {
            log.error('drain deadline passed; forcing stop', { deadlineMs });
            resolve(EXIT.FORCED);
          }, deadlineMs);
          drain().then(
            () => {
              clearTimeout(timer);
              say('stopped cleanly');
              resolve(EXIT.OK);
            },
            (e: unknown) => {
              clearTimeout(timer);
              log.error('drain failed', { error: (e as Error).message });
              resolve(EXIT.FORCED);
            },
          );
        };
        if (signalled) start(signalled);
        else onFirst = start;
      });
    },
  };
}

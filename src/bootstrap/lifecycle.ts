/**
 * Running a long-lived process until a signal: the first SIGTERM/SIGINT stops gracefully (drain),
 * a second one forces. Shutdown is bounded by a watchdog that names itself if it fires.
 */
import type { Logger } from 'pino';

export type Service = {
  /** Graceful when force is false; must be idempotent. */
  stop: (force: boolean) => Promise<void>;
};

export async function runUntilSignal(
  log: Logger,
  service: Service,
  opts: { signals?: NodeJS.Signals[]; forceAfterMs?: number; abort?: AbortSignal } = {},
): Promise<number> {
  const signals = opts.signals ?? ['SIGTERM', 'SIGINT'];
  return new Promise<number>((resolve) => {
    let stopping = false;
    /** Set when the stop was forced (second signal or watchdog): the exit code says so. */
    let forcedCode: number | null = null;
    const cleanup = () => {
      for (const s of signals) process.off(s, onSignal);
    };
    const finish = (code: number) => {
      cleanup();
      resolve(forcedCode ?? code);
    };
    const stop = (why: string) => {
      stopping = true;
      log.info({ why }, 'shutting down: draining (send the signal again to force)');
      const watchdog = opts.forceAfterMs
        ? setTimeout(() => {
            log.warn({ afterMs: opts.forceAfterMs }, 'graceful shutdown took too long; forcing');
            forcedCode ??= 1;
            void service.stop(true).then(() => finish(1));
          }, opts.forceAfterMs)
        : null;
      watchdog?.unref();
      service.stop(false).then(
        () => {
          if (watchdog) clearTimeout(watchdog);
          log.info('stopped');
          finish(0);
        },
        (e: unknown) => {
          log.error({ err: e }, 'error while stopping');
          finish(1);
        },
      );
    };
    const onSignal = (sig: NodeJS.Signals) => {
      if (!stopping) return stop(sig);
      log.warn({ signal: sig }, 'second signal: forcing shutdown');
      forcedCode ??= 130;
      void service.stop(true).finally(() => finish(130));
    };
    for (const s of signals) process.on(s, onSignal);
    opts.abort?.addEventListener('abort', () => {
      if (!stopping) stop('abort');
    });
  });
}

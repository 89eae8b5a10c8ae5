/**
 * SIGTERM/SIGINT that arrive while the CLI is still loading its modules (seconds on a small board): they are
 * held here instead of killing the process with 143, and handed to the command once it is ready (`run` stops
 * cleanly; other commands are ended by the signal as usual).
 */
let pending: NodeJS.Signals | null = null;
const hold = (signal: NodeJS.Signals) => {
  pending ??= signal;
};

export function holdEarlySignals(): void {
  process.on('SIGTERM', hold);
  process.on('SIGINT', hold);
}

/** Stops holding; returns the first signal that arrived meanwhile, if any. */
export function takeEarlySignal(): NodeJS.Signals | null {
  process.off('SIGTERM', hold);
  process.off('SIGINT', hold);
  const s = pending;
  pending = null;
  return s;
}

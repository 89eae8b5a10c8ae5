/** Stopping a child process and waiting until it is gone (benchmarks and test helpers). */
import type { ChildProcess } from 'node:child_process';

/** Sends `signal` to `child` if it still runs and resolves once it has exited. */
export async function killAndWait(child: ChildProcess | null, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await gone;
}

/** `facegate run`: the appliance's main job, until SIGTERM/SIGINT. */
import { startAppliance, type Appliance } from '../app/appliance.js';
import { notifyEnv } from '../config/load.js';
import { createLogger } from '../util/log.js';
import { SdNotifier } from '../util/sd-notify.js';
import type { Command } from './command.js';
import { takeEarlySignal } from './early-signals.js';
import { configWithDataDir } from './context.js';

const usage = `Usage: facegate run [--config <file>] [--data-dir <dir>]

Runs the appliance: cameras → batched detect/align/embed → facebank matching → tracking → MQTT events,
plus the admin page. Logs are JSON lines on stderr. Stops cleanly on SIGTERM or SIGINT (exit 0).
With no --config the built-in defaults apply (no cameras, embedded MQTT broker on 127.0.0.1:1883, web on :8080).`;

export const runCommand: Command = {
  name: 'run',
  summary: 'Run the appliance (cameras, recognition, MQTT, admin page)',
  usage,
  options: {},
  async run({ values }) {
    const config = configWithDataDir(values);
    const log = createLogger(config.log.level);
    const notify = new SdNotifier({ env: notifyEnv(), onError: (m) => log.warn({ notify: m }, 'sd_notify failed') });
    // Signals are handled from the first moment: one during start-up ends it cleanly (exit 0), not with 143.
    const abort = new AbortController();
    let app: Appliance | null = null;
    let stopRequested!: () => void;
    const stopped = new Promise<void>((resolve) => (stopRequested = resolve));
    const onSignal = (signal: string) => {
      if (abort.signal.aborted) return;
      log.info({ signal }, app ? 'stopping' : 'stopping during start-up');
      abort.abort();
      stopRequested();
    };
    const onTerm = () => onSignal('SIGTERM');
    const onInt = () => onSignal('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
    const early = takeEarlySignal();
    if (early) onSignal(early);
    try {
      try {
        app = await startAppliance(config, { log, notify, signal: abort.signal, configFile: (values.config as string | undefined) ?? null });
      } catch (e) {
        await notify.close();
        if (!abort.signal.aborted) throw e;
        log.info('stopped');
        log.flush?.();
        return 0;
      }
      if (!abort.signal.aborted)
        log.info({ cameras: config.cameras.length, mqtt: app.mqttUrl.replace(/\/\/[^@/]*@/, '//***@'), web: app.webAddress }, 'facegate running');
      await stopped;
    } finally {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
    }
    await app.stop();
    await notify.close();
    log.info('stopped');
    log.flush?.();
    return 0;
  },
};

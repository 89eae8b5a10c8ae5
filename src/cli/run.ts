/** `facegate run`: the appliance's main job, until SIGTERM/SIGINT. */
import { startAppliance } from '../app.js';
import { createLogger } from '../util/log.js';
import { SdNotifier } from '../util/sd-notify.js';
import type { Command } from './command.js';
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
    const notify = new SdNotifier({ onError: (m) => log.warn({ notify: m }, 'sd_notify failed') });
    let app;
    try {
      app = await startAppliance(config, { log, notify });
    } catch (e) {
      await notify.close();
      throw e;
    }
    log.info({ cameras: config.cameras.length, mqtt: app.mqttUrl.replace(/\/\/[^@/]*@/, '//***@'), web: app.webAddress }, 'facegate running');
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        log.info({ signal }, 'stopping');
        process.off('SIGTERM', onTerm);
        process.off('SIGINT', onInt);
        resolve();
      };
      const onTerm = () => stop('SIGTERM');
      const onInt = () => stop('SIGINT');
      process.on('SIGTERM', onTerm);
      process.on('SIGINT', onInt);
    });
    await app.stop();
    await notify.close();
    log.info('stopped');
    log.flush?.();
    return 0;
  },
};

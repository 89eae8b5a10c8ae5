/**
 * The local API on <dataDir>/facegate.sock: CLI commands change the facebank and the admin account through the
 * running appliance, and `facegate status` reads its state.
 */
import { statfs } from 'node:fs/promises';
import type { Config } from '../../config/schema.js';
import type { Admission } from '../../engine/admission.js';
import type { FaceEngine } from '../../engine/types.js';
import type { Camera } from '../../ingest/camera.js';
import type { Enrolment } from '../../enrol/service.js';
import { startLocalApi, type AdminPort, type ApplianceStatus, type LocalApi } from '../../local/api.js';
import type { MqttPublisher } from '../../mqtt/publisher.js';
import type { AuthStore } from '../../store/auth.js';
import type { FacebankSync } from '../../sync/service.js';
import { redactString, type Logger } from '../../util/log.js';
import { claimNoticeText, noticeToStderr } from '../../web/claim-notice.js';
import { openAuth } from '../../web/server.js';
import type { Slot, Unit } from '../unit.js';
import type { PageAddress } from './web.js';

export interface LocalApiServices {
  log: Logger;
  admission: Admission;
  enrol: Slot<Enrolment>;
  engine: Slot<FaceEngine>;
  /** The page's admin account; empty when the page is off (then auth.json is changed directly). */
  auth: Slot<AuthStore>;
  web: Slot<PageAddress>;
  publisher: Slot<MqttPublisher>;
  cameras: Slot<Camera[]>;
  sync: Slot<FacebankSync>;
  /** The broker URL in use (the embedded broker's when none is configured). */
  mqttUrl: () => string;
  /** Where a new claim code is told (default: stderr). */
  notice?: (text: string) => void;
}

async function diskSpace(dir: string): Promise<ApplianceStatus['disk']> {
  try {
    const s = await statfs(dir);
    return { path: dir, freeBytes: s.bavail * s.bsize, totalBytes: s.blocks * s.bsize };
  } catch {
    return null;
  }
}

/** The admin account as `passwd --reset` and `install-service` change it: in the page's store when it runs. */
function adminPort(config: Pick<Config, 'dataDir' | 'web'>, services: LocalApiServices): AdminPort {
  const store = async () => services.auth.peek() ?? (await openAuth(config));
  return {
    async reset() {
      const auth = await store();
      const claimCode = await auth.resetPassword();
      await auth.flush();
      const page = services.web.peek();
      if (page) (services.notice ?? noticeToStderr)(claimNoticeText({ claimCode, urls: page.urls, fingerprint: page.fingerprint }));
      return claimCode;
    },
    async prepare(password) {
      const auth = await store();
      const setNow = password !== undefined && !auth.hasPassword();
      if (setNow) await auth.setInitialPassword(password);
      await auth.flush();
      return { claimCode: auth.pendingClaimCode(), passwordSet: auth.hasPassword(), setNow };
    },
  };
}

function statusOf(config: Pick<Config, 'dataDir'>, services: LocalApiServices, since: string): () => Promise<ApplianceStatus> {
  return async () => {
    const auth = services.auth.peek();
    const page = services.web.peek();
    const publisher = services.publisher.peek();
    const sync = services.sync.peek()?.stats;
    return {
      pid: process.pid,
      since,
      dataDir: config.dataDir,
      setup: auth && { claimed: auth.hasPassword(), passwordFixed: auth.passwordIsFixed(), claimCode: auth.pendingClaimCode() },
      page: page && { urls: page.urls, fingerprint: page.fingerprint },
      cameras: (services.cameras.peek() ?? []).map(({ status: s }) => ({
        name: s.camera,
        state: s.state,
        fps: s.fps,
        lastFrameTime: s.lastFrameTime,
        lastError: s.lastError,
      })),
      broker: publisher && {
        url: redactString(services.mqttUrl()),
        connected: publisher.stats.connected,
        queued: publisher.stats.queued,
        published: publisher.stats.published,
        dropped: publisher.stats.dropped,
      },
      sync: sync ? { connected: sync.connected, pending: sync.pending, refused: sync.refused, lastSync: sync.lastSync } : null,
      disk: await diskSpace(config.dataDir),
    };
  };
}

export function localApiUnit(config: Pick<Config, 'dataDir' | 'web' | 'engine' | 'pipeline'>, services: LocalApiServices): Unit {
  let api: LocalApi | null = null;
  return {
    name: 'local API',
    withoutIt: 'CLI changes to the facebank and the admin account are refused while this runs, and `facegate status` cannot ask it',
    async start() {
      const { log, admission } = services;
      api = await startLocalApi({
        config,
        enrol: services.enrol.get(),
        engine: services.engine.get(),
        admission,
        log,
        admin: adminPort(config, services),
        status: statusOf(config, services, new Date().toISOString()),
      });
    },
    async stop() {
      await api?.stop();
      api = null;
    },
  };
}

/**
 * Cameras changed from the page and the API while the appliance runs. A change is checked against the config
 * schema, written to the config file (comments kept, atomic, previous copy kept) with any URL credentials moved to
 * the data directory's secrets file, and then applied to that one camera: the others keep running, and so do
 * their tracks. Changes run one at a time.
 */
import path from 'node:path';
import { editCameras, type CameraEntry } from '../config/edit.js';
import { formatIssues } from '../config/issues.js';
import { ConfigError } from '../config/load.js';
import { maskUrl } from '../config/mask.js';
import { cameraSchema, type CameraConfig, type Config } from '../config/schema.js';
import { isMaskedUserinfo, maskUserinfo, resolveRef, secretRef, splitUserinfo, withRef, withUserinfo } from '../config/secrets.js';
import type { Bus } from '../events/bus.js';
import type { CameraSet } from '../ingest/camera-set.js';
import { testSource } from '../ingest/test-source.js';
import type { CameraSecrets } from '../store/camera-secrets.js';
import { configSource, readConfigText, writeConfigText } from '../store/config-file.js';
import { FacegateError } from '../util/errors.js';
import type { Logger } from '../util/log.js';
import type { CameraAdminPort, CameraSettings, CameraTestResult, ConfigSourceInfo } from '../web/ports.js';

/** Camera tests (each an ffmpeg) allowed at once. */
const MAX_TESTS = 2;

export interface CameraAdminOptions {
  /** The config file the appliance was started with; null: the built-in defaults. */
  file: string | null;
  /** The running config: its `cameras` list is kept in step with the file (in place). */
  config: Pick<Config, 'cameras' | 'pipeline' | 'ffmpeg'>;
  set: CameraSet;
  secrets: CameraSecrets;
  /** Ends a removed or replaced camera's tracks (the pipeline loop). */
  endTracks(camera: string): void;
  /** Told when a camera's name is gone (removed or renamed), so its MQTT status and Home Assistant entities go. */
  bus?: Bus;
  log: Logger;
}

/** A camera as checked: its config (URL without user info) and the user info to keep as a secret. */
interface Checked {
  camera: CameraConfig;
  userinfo: string | null;
}

export class CameraAdmin implements CameraAdminPort {
  private queue: Promise<unknown> = Promise.resolve();
  /** Tests (ffmpeg processes) running now. */
  private testing = 0;

  constructor(private readonly o: CameraAdminOptions) {}

  source(): Promise<ConfigSourceInfo> {
    return configSource(this.o.file);
  }

  settings(): CameraSettings[] {
    return this.o.config.cameras.map((c) => this.view(c));
  }

  async test(input: Record<string, unknown>, current: string | null): Promise<CameraTestResult> {
    const { camera, userinfo } = this.check({ name: current ?? 'test', ...input }, current, 'tested');
    if (this.testing >= MAX_TESTS) throw new FacegateError('busy', 'Other camera tests are still running; try again in a few seconds.');
    this.testing++;
    return testSource({
      camera: { ...camera, url: userinfo ? withUserinfo(camera.url, userinfo) : camera.url },
      defaultFps: this.o.config.pipeline.fps,
      defaultWidth: this.o.config.pipeline.frameWidth,
      ...(this.o.config.ffmpeg.path ? { ffmpegPath: this.o.config.ffmpeg.path } : {}),
    }).finally(() => this.testing--);
  }

  save(input: Record<string, unknown>, current: string | null): Promise<CameraSettings> {
    return this.serial(async () => {
      const file = await this.writableFile();
      const list = this.o.config.cameras;
      if (current !== null && !list.some((c) => c.name === current)) throw new FacegateError('not_found', `There is no camera "${current}".`);
      const { camera, userinfo } = this.check(input, current, 'saved');
      if (camera.name !== current && list.some((c) => c.name === camera.name))
        throw new FacegateError('conflict', `There is already a camera called "${camera.name}"; choose another name.`);

      const stored: CameraConfig = { ...camera, url: userinfo ? withRef(camera.url, camera.name) : camera.url };
      const previous = await readConfigText(file);
      const { text } = this.edited(previous, file, { replace: current, camera: entryOf(stored) });
      // The secret first: the file never refers to a secret that is not stored.
      await this.o.secrets.set(camera.name, userinfo);
      await writeConfigText(file, previous, text);
      if (current !== null && current !== camera.name) await this.o.secrets.set(current, null);

      const running: CameraConfig = { ...stored, url: resolveRelative(stored.url, file) };
      const at = current === null ? -1 : list.findIndex((c) => c.name === current);
      if (at >= 0) list.splice(at, 1, running);
      else list.push(running);
      await this.restart(current, running);
      this.o.log.info(
        { camera: camera.name, ...(current && current !== camera.name ? { was: current } : {}), enabled: camera.enabled },
        current ? 'camera changed' : 'camera added',
      );
      return this.view(running);
    });
  }

  remove(name: string): Promise<void> {
    return this.serial(async () => {
      const file = await this.writableFile();
      const list = this.o.config.cameras;
      const at = list.findIndex((c) => c.name === name);
      if (at < 0) throw new FacegateError('not_found', `There is no camera "${name}".`);
      const previous = await readConfigText(file);
      const { text } = this.edited(previous, file, { replace: name, camera: null });
      await writeConfigText(file, previous, text);
      await this.o.secrets.set(name, null);
      list.splice(at, 1);
      await this.restart(name, null);
      this.o.log.info({ camera: name }, 'camera removed');
    });
  }

  /** Stops the old camera (ending its tracks) and starts the new one when it is enabled. */
  private async restart(old: string | null, next: CameraConfig | null): Promise<void> {
    if (old !== null) {
      await this.o.set.stop(old);
      this.o.endTracks(old);
      if (next?.name !== old) this.o.bus?.emit('cameraRemoved', { camera: old });
    }
    if (!next?.enabled) return;
    try {
      this.o.set.start({ ...next, url: resolveRef(next.url, this.o.secrets.all()) });
    } catch (e) {
      this.o.log.error({ camera: next.name, err: (e as Error).message }, 'camera not started');
    }
  }

  private async writableFile(): Promise<string> {
    const src = await configSource(this.o.file);
    if (!src.writable) throw new FacegateError('config_not_writable', src.reason!);
    return src.file!;
  }

  private edited(text: string, file: string, edit: Parameters<typeof editCameras>[2]) {
    try {
      return editCameras(text, file, edit);
    } catch (e) {
      if (e instanceof ConfigError) throw new FacegateError('config_refused', `The change was not saved: ${e.problems.join('; ')}.`);
      throw e;
    }
  }

  /**
   * The form checked against the camera schema, its user info split off. A masked password (as the page shows it)
   * means "keep the stored one".
   */
  private check(input: Record<string, unknown>, current: string | null, verb: 'saved' | 'tested'): Checked {
    const clean: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(input)) if (v !== null && v !== '') clean[k] = v;
    const at =
      current === null
        ? this.o.config.cameras.length
        : Math.max(
            0,
            this.o.config.cameras.findIndex((c) => c.name === current),
          );
    const r = cameraSchema.safeParse(clean);
    if (!r.success) {
      const problems = formatIssues(r.error.issues.map((i) => ({ ...i, path: ['cameras', at, ...i.path] })));
      throw new FacegateError('config_refused', `The camera was not ${verb}: ${problems.join('; ')}.`);
    }
    if (!secretRef(r.data.url)) {
      const { url, userinfo } = splitUserinfo(r.data.url);
      if (!userinfo || !isMaskedUserinfo(userinfo)) return { camera: { ...r.data, url }, userinfo };
    }
    // A masked password (as the page shows it) or a placeholder: keep the password the camera has now.
    const now = current === null ? null : this.o.config.cameras.find((c) => c.name === current);
    const stored = now ? (secretRef(now.url) ? this.o.secrets.get(current!) : splitUserinfo(now.url).userinfo) : null;
    if (!stored)
      throw new FacegateError('config_refused', `The camera was not ${verb}: cameras[${at}].url: type the camera's password again (none is stored).`);
    const typed = splitUserinfo(r.data.url).userinfo;
    const user = typed && typed.includes(':') ? typed.slice(0, typed.indexOf(':')) : null;
    const kept = user !== null && stored.includes(':') ? `${user}${stored.slice(stored.indexOf(':'))}` : stored;
    return { camera: { ...r.data, url: splitUserinfo(resolveRef(r.data.url, {})).url }, userinfo: kept };
  }

  private view(c: CameraConfig): CameraSettings {
    const key = secretRef(c.url);
    const userinfo = key ? this.o.secrets.get(key) : null;
    const url = key ? (userinfo ? resolveRef(c.url, { [key]: maskUserinfo(userinfo) }) : resolveRef(c.url, {})) : maskUrl(c.url);
    return { name: c.name, url, enabled: c.enabled, loop: c.loop, fps: c.fps ?? null, width: c.width ?? null, inputOptions: [...c.inputOptions] };
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => {});
    return run;
  }
}

/** The file's form of a camera: defaults left out, as a person would write it. */
function entryOf(c: CameraConfig): CameraEntry {
  return {
    name: c.name,
    url: c.url,
    ...(c.enabled ? {} : { enabled: false }),
    ...(c.loop ? { loop: true } : {}),
    ...(c.fps !== undefined ? { fps: c.fps } : {}),
    ...(c.width !== undefined ? { width: c.width } : {}),
    ...(c.inputOptions.length ? { inputOptions: c.inputOptions } : {}),
  };
}

/** `./clip.mp4` in the file is relative to the file's folder (as src/config/load.ts resolves it). */
const resolveRelative = (url: string, file: string): string => (url.startsWith('./') || url.startsWith('../') ? path.resolve(path.dirname(file), url) : url);

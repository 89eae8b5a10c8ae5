/** A real mosquitto broker (found by prereqs.mjs: PATH, then the sbin folders) on a free local port, for MQTT tests. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { killAndWait } from '../../src/util/child.js';
import { freePort, waitForPort } from './ports.js';
import { findTool, locate, need } from './prereqs.mjs';

/** The broker binary; null when missing (then strict mode has failed the importing test file already). */
export const mosquittoBinary = locate('mosquitto');
/** True when mosquitto is installed. Missing: strict mode throws here, otherwise the skip is announced. */
export const hasMosquitto = need('the tests that use mosquitto', 'mosquitto');

export class Mosquitto {
  private child: ChildProcess | null = null;
  private dir: string | null = null;
  private stderr = '';
  port = 0;

  /**
   * @param opts.persistence keep sessions and retained messages across a graceful restart (default false).
   * @param opts.autosaveSeconds with persistence: also save them this often, so they survive a SIGKILL.
   * @param opts.users only these user names and passwords may connect (no anonymous clients).
   */
  constructor(private readonly opts: { persistence?: boolean; autosaveSeconds?: number; users?: Record<string, string> } = {}) {}

  /** Replaces the accepted users (takes effect at the next start). */
  setUsers(users: Record<string, string>): void {
    if (!this.dir) throw new Error('start the broker first');
    const file = path.join(this.dir, 'passwd');
    writeFileSync(file, '');
    const tool = findTool('mosquitto_passwd');
    if (!tool) throw new Error('mosquitto_passwd not found: install the Debian package mosquitto');
    for (const [user, password] of Object.entries(users)) {
      const r = spawnSync(tool, ['-b', file, user, password]);
      if (r.status !== 0) throw new Error(`mosquitto_passwd failed: ${r.stderr.toString()}`);
    }
  }

  /** True while the broker process runs. */
  get running(): boolean {
    return this.child !== null && this.child.exitCode === null && this.child.signalCode === null;
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (!this.port) this.port = await freePort();
    if (!this.dir) {
      this.dir = mkdtempSync(path.join(os.tmpdir(), 'facegate-mosquitto-'));
      writeFileSync(
        path.join(this.dir, 'mosquitto.conf'),
        [
          `listener ${this.port} 127.0.0.1`,
          // Run as root, mosquitto would switch to its own user and could not read the password or persistence files here.
          `user ${os.userInfo().username}`,
          ...(this.opts.users ? ['allow_anonymous false', `password_file ${path.join(this.dir, 'passwd')}`] : ['allow_anonymous true']),
          `persistence ${this.opts.persistence ? 'true' : 'false'}`,
          ...(this.opts.persistence ? [`persistence_location ${this.dir}/`] : []),
          ...(this.opts.persistence && this.opts.autosaveSeconds ? [`autosave_interval ${this.opts.autosaveSeconds}`] : []),
          'log_dest stderr',
          '',
        ].join('\n'),
      );
      if (this.opts.users) this.setUsers(this.opts.users);
    }
    this.stderr = '';
    const child = spawn(mosquittoBinary!, ['-c', path.join(this.dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    child.stderr!.on('data', (d) => (this.stderr = (this.stderr + d).slice(-4000)));
    const died = new Promise<never>((_, reject) => child.once('exit', (code) => reject(new Error(`mosquitto exited (${code}): ${this.stderr.toString()}`))));
    died.catch(() => {});
    await Promise.race([waitForPort(this.port), died]);
  }

  /** Stops the broker and waits for it to exit: SIGKILL (abrupt death) unless graceful (SIGTERM: it saves its state). */
  async stop(graceful = false): Promise<void> {
    const c = this.child;
    this.child = null;
    await killAndWait(c, graceful ? 'SIGTERM' : 'SIGKILL');
  }

  /** Back on the same port. Without persistence, sessions and retained messages are gone. */
  async restart(graceful = false): Promise<void> {
    await this.stop(graceful);
    await this.start();
  }

  async dispose(): Promise<void> {
    await this.stop();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}

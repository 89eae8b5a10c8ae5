/**
 * A unit is one part of the running appliance (a store, the engine, the MQTT transport, the admin page...): built
 * from its own config section and the services it needs, it does nothing until `start()`, and `stop()` undoes what
 * `start()` did. The runner starts units in order and stops them in reverse; a required unit that fails ends
 * start-up, an optional one is logged and the others run without it.
 */
import { FacegateError, isFacegateError } from '../util/errors.js';
import type { Logger } from '../util/log.js';

export interface Unit {
  readonly name: string;
  /** Start-up cannot go on without it (data dir, facebank, engine...). Default: optional. */
  readonly required?: boolean;
  /** What the user loses when this optional unit does not start (logged with the error). */
  readonly withoutIt?: string;
  /** Starts the unit; when it throws, whatever it had started is already undone. */
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
}

/**
 * A service one unit provides once started, read by later units in their own `start()` (units are built before
 * anything runs, so they hold the slot, not the service).
 */
export class Slot<T> {
  private value: T | null = null;

  constructor(readonly name: string) {}

  set(value: T): void {
    this.value = value;
  }

  clear(): void {
    this.value = null;
  }

  /** The service; throws when the unit that provides it did not start. */
  get(): T {
    if (this.value === null) throw new FacegateError('unit_missing', `It needs the ${this.name}, which did not start.`);
    return this.value;
  }

  /** The service, or null when its unit did not start (optional services). */
  peek(): T | null {
    return this.value;
  }
}

/** Starts units in order and stops the started ones in reverse. */
export class UnitRunner {
  private started: Unit[] = [];

  constructor(private readonly log: Logger) {}

  /**
   * Starts each unit in turn. Between units, an aborted `signal` ends start-up with FacegateError 'aborted'. On any
   * error that ends start-up, the units already started are stopped before it is thrown.
   */
  async start(units: readonly Unit[], signal?: AbortSignal): Promise<void> {
    try {
      for (const unit of units) {
        if (signal?.aborted) throw new FacegateError('aborted', 'Start-up was stopped by a signal.');
        try {
          await unit.start();
        } catch (e) {
          if (unit.required || (isFacegateError(e) && e.code === 'aborted')) throw e;
          const err = e instanceof Error ? e.message : String(e);
          this.log.error({ unit: unit.name, err }, `${unit.name} not started${unit.withoutIt ? `: ${unit.withoutIt}` : ''}`);
          continue;
        }
        this.started.push(unit);
        this.log.debug({ unit: unit.name }, 'unit started');
      }
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  /** Names of the units running now, in start order. */
  get running(): string[] {
    return this.started.map((u) => u.name);
  }

  /** Stops the started units in reverse order; a unit that fails to stop is logged and the rest still stop. */
  async stop(): Promise<void> {
    const units = this.started.reverse();
    this.started = [];
    for (const unit of units) {
      try {
        await unit.stop();
        this.log.debug({ unit: unit.name }, 'unit stopped');
      } catch (e) {
        this.log.error({ unit: unit.name, err: e instanceof Error ? e.message : String(e) }, 'stop failed');
      }
    }
  }
}

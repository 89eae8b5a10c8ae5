/**
 * What Home Assistant's states are made of, kept between messages: the open tracks of each camera and whom each
 * is decided to be. A person is present at a camera while any open track there is theirs; the face count is the
 * number of open tracks.
 */
import type { RecognitionEvent } from '../events/types.js';

export interface PresenceChange {
  camera: string;
  personId: string;
  on: boolean;
}

export interface TrackUpdate {
  /** The camera's open tracks after this event. */
  faces: number;
  facesChanged: boolean;
  /** People whose presence at the camera changed. */
  presence: PresenceChange[];
  /** A new decision: a new track, or a track re-decided to someone else (an event for Home Assistant). */
  decided: boolean;
}

export class CameraTracks {
  /** camera → open track → decided person id (null: unknown face). */
  private readonly open = new Map<string, Map<string, string | null>>();

  apply(e: RecognitionEvent): TrackUpdate {
    let tracks = this.open.get(e.camera);
    if (!tracks) this.open.set(e.camera, (tracks = new Map<string, string | null>()));
    const had = tracks.has(e.track);
    const before = tracks.get(e.track) ?? null;
    const after = e.person?.id ?? null;
    const affected = [...new Set([before, after])].filter((p): p is string => p !== null);
    const was = new Map(affected.map((p) => [p, this.present(e.camera, p)]));
    const size = tracks.size;
    if (e.type === 'end') tracks.delete(e.track);
    else tracks.set(e.track, after);
    const presence = affected
      .filter((p) => this.present(e.camera, p) !== was.get(p))
      .map((p) => ({ camera: e.camera, personId: p, on: this.present(e.camera, p) }));
    return { faces: tracks.size, facesChanged: tracks.size !== size, presence, decided: e.type !== 'end' && (!had || before !== after) };
  }

  /** Forgets every open track of the camera (it went offline: nobody is in view there); returns who is no longer present. */
  clear(camera: string): PresenceChange[] {
    const people = new Set([...(this.open.get(camera)?.values() ?? [])].filter((p): p is string => p !== null));
    this.open.delete(camera);
    return [...people].map((personId) => ({ camera, personId, on: false }));
  }

  /** True while any open track at the camera is decided to be this person. */
  present(camera: string, personId: string): boolean {
    for (const p of this.open.get(camera)?.values() ?? []) if (p === personId) return true;
    return false;
  }

  faces(camera: string): number {
    return this.open.get(camera)?.size ?? 0;
  }
}

/** The store's Facebank as the sync's port, for tests of the sync on its own (the appliance passes the owner, src/enrol). */
import type { Facebank } from '../../src/store/facebank.js';
import type { SyncFacebank } from '../../src/sync/ports.js';

export function facebankPort(fb: Facebank): SyncFacebank {
  return {
    people: () => fb.people(),
    person: (id) => fb.person(id),
    samples: () => fb.samples(),
    findByName: (name) => fb.findByName(name),
    cropPath: (id) => fb.cropPath(id),
    applyRemote: (ops) => fb.applyBatch(ops),
    renamePerson: (id, name) => fb.renamePerson(id, name),
  };
}

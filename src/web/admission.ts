/** Engine-bound work of a web request goes through the appliance's admission queue; when it is full: 429 with Retry-After. */
import { BusyError, type Admission } from '../engine/admission.js';
import { HttpError } from './http.js';

/** Runs `job` through `admission` (directly when there is none), turning "busy" into an HTTP 429. */
export async function admitted<T>(admission: Admission | undefined, job: () => Promise<T>): Promise<T> {
  try {
    return await (admission ? admission.run(job) : job());
  } catch (e) {
    if (e instanceof BusyError) throw new HttpError(429, 'busy', e.message, { 'Retry-After': String(e.retryAfterSeconds) });
    throw e;
  }
}

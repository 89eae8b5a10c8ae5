/** Free ports and waiting for listeners: the same helpers the benchmarks use. */
export { freePort, waitForPort } from '../../src/util/net.js';

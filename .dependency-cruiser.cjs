/**
 * facegate's layering, checked by `npm run depcheck` (dependency-cruiser). Floors from the bottom:
 *   0 core      src/errors (the error-code table), src/events (event types, bus), src/util, src/config, and two shape-only files:
 *               src/vision/types.ts (images, boxes) and src/store/types.ts (stored records)
 *   1 pure      src/vision, src/match, src/track: pre/post-processing, no IO at all
 *   2 adapters  src/runtime (the only onnxruntime importer), src/convert, src/models, src/ingest, src/store
 *   3 services  src/engine, src/pipeline, src/metrics, src/mqtt, src/sync, src/enrol (the facebank's one owner)
 *   4 fronts    src/web, src/local, src/eval
 *   5 top       src/app (the composition root: units and their runner), src/cli, src/cli.ts, src/bench
 * A module may import its own floor or any floor below it, never one above.
 */
const floors = [
  ['^src/(errors|events|util|config)/', '^src/(vision|store)/types[.]ts$'],
  ['^src/(vision/(?!types[.]ts$)|match/|track/)'],
  ['^src/(runtime|convert|models|ingest)/', '^src/store/(?!types[.]ts$)'],
  ['^src/(engine|pipeline|metrics|mqtt|sync|enrol)/'],
  ['^src/(web|local|eval)/'],
  ['^src/(app/|cli[.]ts|cli/|bench/)'],
];
const any = (res) => `(${res.join('|')})`;

const upward = floors.slice(0, -1).map((from, i) => ({
  name: `no-upward-from-floor-${i}`,
  comment: `Floor ${i} imports only from floors 0..${i} (see the floors atop .dependency-cruiser.cjs).`,
  severity: 'error',
  from: { path: any(from) },
  to: { path: any(floors.slice(i + 1).flat()) },
}));

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...upward,
    {
      name: 'pure-has-no-io',
      comment: 'vision, match and track are pure: no file system, network, processes, workers, image codecs or inference.',
      severity: 'error',
      from: { path: '^src/(vision|match|track)/' },
      to: {
        path: '(^|/)node_modules/(sharp|onnxruntime-node|mqtt|lowdb|fluent-ffmpeg|hono|@hono)/',
      },
    },
    {
      name: 'pure-has-no-node-io',
      comment: 'vision, match and track import no IO core modules.',
      severity: 'error',
      from: { path: '^src/(vision|match|track)/' },
      to: { dependencyTypes: ['core'], path: '^(node:)?(fs|fs/promises|net|http|https|child_process|worker_threads|dgram|tls|readline)$' },
    },
    {
      name: 'only-runtime-imports-onnxruntime',
      comment: 'Inference goes through src/runtime; nothing else loads onnxruntime-node.',
      severity: 'error',
      from: { pathNot: '^src/runtime/' },
      to: { path: '(^|/)node_modules/onnxruntime-(node|common)/' },
    },
    {
      name: 'no-circular',
      comment: 'Modules form no import cycle.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^src/wasm/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js'] },
  },
};

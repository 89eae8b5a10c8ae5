/**
 * The one config schema: type, bounds, default and description of every option live here together.
 * The TypeScript type `Config` is inferred from it. Unknown keys are errors (strict objects).
 */
import { z } from 'zod';
import { CAMERA_NAME_RE } from '../util/ids.js';

const provider = z.enum(['tensorrt', 'cuda', 'cpu']);

const cameraUrl = z
  .string()
  .min(1)
  .refine((s) => /^(rtsp|rtsps|http|https|file):\/\//.test(s) || s.startsWith('/') || s.startsWith('./') || s.startsWith('../'), {
    message: 'expected rtsp://, http(s)://, file or /dev/video path',
  });

export const cameraSchema = z
  .object({
    name: z
      .string()
      .regex(CAMERA_NAME_RE, 'lower-case letters, digits, _ and -, at most 32 characters')
      .describe('Camera name; used in MQTT topics and on the web page.'),
    url: cameraUrl.describe('rtsp://, http(s):// (MJPEG, HLS), a video file path, or /dev/videoN (V4L2).'),
    loop: z.boolean().default(false).describe('Files only: start again at the end.'),
    fps: z.number().positive().max(30).optional().describe('Frames per second to analyse; defaults to pipeline.fps.'),
    width: z
      .number()
      .int()
      .min(64)
      .max(3840)
      .optional()
      .describe('Frame width to decode to (height follows the aspect ratio); defaults to pipeline.frameWidth.'),
    inputOptions: z.array(z.string()).default([]).describe('Extra ffmpeg input options, e.g. ["-rtsp_transport", "tcp"] or ["-hwaccel", "cuda"].'),
    enabled: z.boolean().default(true).describe('Set false to keep the camera configured but not opened.'),
  })
  .strict();

/** Detector families; `auto` picks one (engine/detectors.ts). A new family is added here and in engine/single-stage.ts. */
export const DETECTOR_KINDS = ['auto', 'mtcnn', 'scrfd', 'yunet', 'retinaface'] as const;
export type DetectorKind = (typeof DETECTOR_KINDS)[number];
/** Families run as one ONNX model by engine/single-stage.ts (MTCNN is a cascade of its own). */
export type SingleStageKind = Exclude<DetectorKind, 'auto' | 'mtcnn'>;
/** Families facegate has no model file for: the user brings the ONNX (engine.detector.model). */
export const BRING_YOUR_OWN_DETECTORS: readonly DetectorKind[] = ['scrfd', 'retinaface'];

export const EMBEDDER_KINDS = ['mobilefacenet', 'arcface'] as const;
export type EmbedderKind = (typeof EMBEDDER_KINDS)[number];
/** Embedders the user brings the ONNX for (engine.embedder.model). */
export const BRING_YOUR_OWN_EMBEDDERS: readonly EmbedderKind[] = ['arcface'];

export const detectorSchema = z
  .object({
    kind: z
      .enum(DETECTOR_KINDS)
      .default('auto')
      .describe(
        'Detector family. auto: YuNet-n when `facegate models` obtained its verified file into engines/, else MTCNN (built from npm). yunet without a model file uses that engines/ copy; scrfd and retinaface are bring-your-own ONNX.',
      ),
    model: z.string().optional().describe('ONNX file for scrfd/yunet/retinaface (path, relative to the config file or absolute).'),
    inputSize: z
      .number()
      .int()
      .min(64)
      .max(2048)
      .default(960)
      .describe(
        'Single-stage detectors: the longest side a frame or photo is run at. A dynamic-input model runs each image at its own aspect (sides rounded up to multiples of 32), never enlarged; a fixed-input model gets it letterboxed. 960 measured best for photos (YuNet-n, WIDER val: AP50 91.8 at >= 32 px, 71.9 all, against 90.8 / 63.3 at 640); 640-wide camera frames run at their own 640x384.',
      ),
    landmarks: z
      .enum(['onet', 'own'])
      .default('onet')
      .describe(
        "Single-stage detectors: the five landmarks that align a face. onet: MTCNN's O-Net (built by `facegate models`) re-locates them on the detector's box (two passes, 12.9 M MACs each a face); own: the detector's. LFW 10-fold with YuNet-n + MobileFaceNet: 99.32 % with onet (the README).",
      ),
    tiles: z
      .boolean()
      .default(false)
      .describe(
        'Crowd photos: photos are decoded at twice inputSize and, like any image larger than inputSize, also searched in overlapping inputSize tiles at that resolution (single-stage dynamic-input detectors; slower, finds smaller faces).',
      ),
    minFaceSize: z.number().int().min(12).max(512).default(32).describe('Smallest face to look for, in frame pixels (mtcnn pyramid).'),
    scoreThreshold: z.number().min(0).max(1).default(0.5).describe('Minimum detector score.'),
    nmsIou: z.number().min(0).max(1).default(0.4).describe('IoU above which overlapping boxes are merged.'),
  })
  .strict();

export const embedderSchema = z
  .object({
    kind: z.enum(EMBEDDER_KINDS).default('mobilefacenet').describe('mobilefacenet is built from npm; arcface is any 112x112 ArcFace-style ONNX you bring.'),
    model: z.string().optional().describe('ONNX file for kind arcface.'),
    flip: z.boolean().default(false).describe('Test-time augmentation: also embed the mirrored crop and average (twice the embedder work).'),
  })
  .strict();

export const engineSchema = z
  .object({
    enginesDir: z.string().default('engines').describe('Folder with the generated ONNX models and manifest.json (relative to the install folder).'),
    providers: z.array(provider).min(1).default(['cpu']).describe('onnxruntime execution providers, tried in order; cpu is always the last resort.'),
    workers: z
      .number()
      .int()
      .min(0)
      .max(16)
      .default(0)
      .describe(
        'Engine worker threads, each with its own models; a batch is cut into one job per frame and a free worker takes the next. 0: one per CPU core (at most 4) when the first provider is cpu, else 1.',
      ),
    threads: z
      .number()
      .int()
      .min(0)
      .max(64)
      .default(0)
      .describe('Intra-op threads per session; 0: the cores divided by the workers (onnxruntime chooses when there is one worker).'),
    maxBatch: z
      .number()
      .int()
      .min(1)
      .max(256)
      .default(32)
      .describe(
        'Largest batch sent to a model in one run. On the cpu provider runs are smaller still (embedder 4 faces, R-Net 64 and O-Net 32 crops), which keeps them in cache.',
      ),
    trtFp16: z.boolean().default(true).describe('TensorRT: allow FP16 kernels.'),
    detector: detectorSchema.default(detectorSchema.parse({})).describe('Face detector.'),
    embedder: embedderSchema.default(embedderSchema.parse({})).describe('Face embedder (the model that turns a face into a vector).'),
  })
  .strict();

export const qualitySchema = z
  .object({
    minSize: z.number().min(0).default(32).describe('Smallest face (shorter box side, px) that is embedded and matched.'),
    minScore: z.number().min(0).max(1).default(0.8).describe('Smallest detector score that is embedded and matched.'),
    minBlur: z.number().min(0).default(20).describe('Smallest variance of the Laplacian on the aligned crop; lower is blurrier.'),
    maxYaw: z.number().min(0).max(90).default(60).describe('Largest head turn, degrees.'),
    maxPitch: z.number().min(0).max(90).default(40).describe('Largest head tilt up/down, degrees.'),
  })
  .strict();

/** An open-set rule as `facegate eval identification` prints it (match/thresholds.ts IdentificationRule). */
const identificationRuleSchema = z
  .object({
    sizes: z.array(z.number().int().min(2)).min(1).max(32),
    fpirs: z.array(z.number().gt(0).max(0.5)).min(1).max(8),
    thresholds: z.array(z.array(z.number().min(-1).max(1))),
    tracks: z
      .array(z.array(z.array(z.number().min(-1).max(1))))
      .max(16)
      .optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    const problem = (message: string, path: (string | number)[]) => ctx.addIssue({ code: z.ZodIssueCode.custom, message, path });
    r.sizes.forEach((n, i) => i > 0 && n <= r.sizes[i - 1]! && problem('sizes must rise', ['sizes', i]));
    r.fpirs.forEach((f, i) => i > 0 && f >= r.fpirs[i - 1]! && problem('fpirs must fall (e.g. [0.1, 0.01, 0.001])', ['fpirs', i]));
    const shape = (t: number[][], path: (string | number)[]) => {
      if (t.length !== r.fpirs.length) return problem(`needs one row per fpir (${r.fpirs.length}), has ${t.length}`, path);
      t.forEach((row, i) => row.length !== r.sizes.length && problem(`needs one threshold per size (${r.sizes.length}), has ${row.length}`, [...path, i]));
    };
    shape(r.thresholds, ['thresholds']);
    r.tracks?.forEach((t, k) => shape(t, ['tracks', k]));
  });

export const matchSchema = z
  .object({
    threshold: z
      .number()
      .min(-1)
      .max(1)
      .optional()
      .describe(
        "Cosine similarity needed for a name, whatever the facebank size; default: chosen for targetFpir and the number of people enrolled (the embedder's open-set rule), or its threshold at FAR 1e-3 on LFW when it has no rule.",
      ),
    targetFpir: z
      .number()
      .min(1e-6)
      .max(0.5)
      .default(1e-3)
      .describe(
        'Wanted share of faces of strangers that get a name (false-positive identification rate); the threshold rises with the facebank to keep it. Ignored when threshold is set.',
      ),
    margin: z.number().min(0).max(1).default(0.05).describe('The best person must beat the second best by this much.'),
    trimFraction: z.number().min(0).max(0.5).default(0.2).describe("Fraction of a person's lowest sample similarities dropped before averaging."),
    negativeMargin: z
      .number()
      .min(0)
      .max(1)
      .default(0.0)
      .describe('A face closer to a "not this person" sample than to the person\'s own samples (plus this margin) is not named as them.'),
    rules: z
      .record(
        z.string().regex(/^.+\+[^+]+@[0-9a-f]{12}$/, 'a key as `facegate eval identification` prints it: "<detector>+<embedder>@<12 hex digits>"'),
        identificationRuleSchema,
      )
      .default({})
      .describe(
        "This site's own open-set rules, as `facegate eval identification` prints them for the detector + embedder it ran, keyed by the pair and the embedder file's hash. The rule for the running pair is used before the built-in ones, so a bring-your-own embedder gets a threshold that rises with the facebank instead of one fixed threshold. A rule for another model file is ignored.",
      ),
  })
  .strict();

export const trackSchema = z
  .object({
    iou: z.number().min(0).max(1).default(0.3).describe('Minimum IoU to continue a track.'),
    confirmFrames: z.number().int().min(1).max(100).default(3).describe('Agreeing frames needed to name a track.'),
    unknownFrames: z.number().int().min(1).max(100).default(3).describe('Frames without a confident match before a track is declared unknown.'),
    endAfterSeconds: z.number().positive().max(600).default(2).describe('A track ends after this long unseen.'),
    appearance: z
      .number()
      .min(-1)
      .max(1)
      .default(0.35)
      .describe(
        "A face joins a track only when its embedding's cosine to one of the track's recent faces reaches this; a different face where the track was ends the track, and gets its own.",
      ),
    sceneCut: z
      .number()
      .min(0)
      .max(1)
      .default(0.15)
      .describe(
        'A frame whose colour layout differs from the previous frame of the camera by more than this (0..1) is a cut: every track ends. 1 turns it off.',
      ),
    dropMargin: z
      .number()
      .min(0)
      .max(1)
      .default(0.1)
      .describe(
        "A face whose similarity to the track's person is more than this under the threshold does not support the name: it is drawn without it, and dropFrames of them in a row take the name away.",
      ),
    dropFrames: z
      .number()
      .int()
      .min(1)
      .max(100)
      .default(3)
      .describe('Faces in a row clearly under the threshold (see dropMargin) before a named track becomes unknown.'),
  })
  .strict();

export const pipelineSchema = z
  .object({
    fps: z.number().positive().max(30).default(5).describe('Default frames per second analysed per camera.'),
    frameWidth: z.number().int().min(64).max(3840).default(640).describe('Default decode width.'),
    staleAfterSeconds: z.number().positive().default(10).describe('Restart a camera when no frame arrives for this long.'),
    maxBackoffSeconds: z.number().positive().default(30).describe('Cap of the exponential restart backoff.'),
    statusIntervalSeconds: z
      .number()
      .min(1)
      .max(3600)
      .default(10)
      .describe('Each camera re-publishes its retained status (live fps, last frame time) this often, besides on every change.'),
    quality: qualitySchema.default(qualitySchema.parse({})).describe('Faces below these limits are tracked but not embedded or matched.'),
  })
  .strict();

export const mqttSchema = z
  .object({
    url: z
      .string()
      .regex(/^(mqtts?|wss?|tcp|tls):\/\//, 'expected mqtt://, mqtts://, ws:// or wss://')
      .optional()
      .describe('Broker URL; omit to start the embedded broker.'),
    prefix: z
      .string()
      .regex(/^[^#+]+$/, 'no MQTT wildcards')
      .default('facegate')
      .describe('Topic prefix.'),
    clientId: z.string().optional().describe('Default: facegate-<hostname>.'),
    username: z.string().optional().describe('Broker user name; or set FACEGATE_MQTT_USERNAME.'),
    password: z.string().optional().describe('Prefer the FACEGATE_MQTT_PASSWORD environment variable.'),
    qos: z
      .union([z.literal(0), z.literal(1), z.literal(2)])
      .default(1)
      .describe('MQTT quality of service of published events.'),
    queueLimit: z
      .number()
      .int()
      .min(1)
      .max(1_000_000)
      .default(10000)
      .describe('Events kept while the broker is unreachable; the oldest are dropped beyond this.'),
    tls: z
      .object({
        ca: z.string().optional().describe('CA certificate file.'),
        cert: z.string().optional().describe('Client certificate file.'),
        key: z.string().optional().describe('Client key file.'),
        rejectUnauthorized: z.boolean().default(true).describe('Refuse a broker whose certificate does not verify.'),
      })
      .strict()
      .optional()
      .describe('TLS files for mqtts:// and wss:// brokers (paths relative to the config file or absolute).'),
    embedded: z
      .object({
        host: z.string().default('127.0.0.1').describe('Address the embedded broker listens on.'),
        port: z.number().int().min(0).max(65535).default(1883).describe('Port of the embedded broker.'),
      })
      .strict()
      .default({ host: '127.0.0.1', port: 1883 })
      .describe('The embedded broker, used when url is omitted.'),
    homeAssistant: z
      .object({
        enabled: z.boolean().default(false).describe('Publish Home Assistant MQTT discovery messages.'),
        discoveryPrefix: z
          .string()
          .regex(/^[^#+]+$/, 'no MQTT wildcards')
          .default('homeassistant')
          .describe('Home Assistant discovery topic prefix (its birth message is read from <prefix>/status).'),
        expireAfterSeconds: z
          .number()
          .int()
          .min(1)
          .default(30)
          .describe('Home Assistant shows a state unavailable after this long without a message; facegate re-sends every state three times as often.'),
        retainImage: z
          .boolean()
          .default(false)
          .describe('Keep the latest recognised face retained on the broker (anyone allowed to read the topic sees it); off: sent live only.'),
      })
      .strict()
      .default({ enabled: false, discoveryPrefix: 'homeassistant', expireAfterSeconds: 30, retainImage: false })
      .describe('Home Assistant integration.'),
  })
  .strict();

export const webSchema = z
  .object({
    enabled: z.boolean().default(true).describe('Serve the admin page, API, /healthz, /readyz and /metrics.'),
    host: z.string().default('0.0.0.0').describe('Address the admin page binds to.'),
    port: z.number().int().min(0).max(65535).default(8080).describe('Port of the admin page.'),
    passwordHash: z
      .string()
      .optional()
      .describe(
        'scrypt hash from `facegate passwd`; or set FACEGATE_ADMIN_PASSWORD_HASH. Without it, set-up on the page needs the one-time claim code from the log.',
      ),
    https: z
      .enum(['auto', 'on', 'off'])
      .default('auto')
      .describe('TLS on the admin port: auto = on unless bound to a loopback address only; plain HTTP on the same port then only redirects.'),
    certFile: z.string().optional().describe('PEM certificate (chain) for HTTPS; without it a self-signed one is made in <dataDir>/tls.'),
    keyFile: z.string().optional().describe('PEM private key matching web.certFile.'),
    allowedHosts: z
      .array(z.string().min(1).max(253))
      .max(64)
      .default([])
      .describe(
        'Extra names the page answers to (Host header), besides IP addresses, localhost and this machine\'s hostname (and .local); ".example.lan" also allows its subdomains.',
      ),
    trustProxy: z
      .boolean()
      .default(false)
      .describe('Behind a reverse proxy: take the client address and https from X-Forwarded-For/-Proto when the request comes from web.trustedProxies.'),
    trustedProxies: z
      .array(z.string().min(2).max(64))
      .max(64)
      .default(['127.0.0.1', '::1'])
      .describe('Addresses or CIDR ranges of reverse proxies whose X-Forwarded-* headers are believed (with web.trustProxy).'),
    maxUploadBytes: z
      .number()
      .int()
      .min(1024)
      .default(10 * 1024 * 1024)
      .describe('Largest accepted photo.'),
    maxRequestBytes: z
      .number()
      .int()
      .min(1024)
      .default(50 * 1024 * 1024)
      .describe('Largest accepted request body.'),
    maxPixels: z.number().int().min(1).default(40_000_000).describe('Largest accepted photo, in pixels.'),
    sessionHours: z.number().positive().default(12).describe('Admin login session lifetime.'),
    unknownRetentionHours: z.number().positive().default(72).describe('How long unknown faces are kept for clustering.'),
    heavyJobs: z
      .number()
      .int()
      .min(1)
      .max(16)
      .default(1)
      .describe('Photo analyses (uploads, CLI jobs sent to the running appliance) run at once beside the camera loop.'),
    heavyQueue: z.number().int().min(0).max(1000).default(16).describe('Photo analyses waiting for a slot; beyond this a request gets 429 with Retry-After.'),
  })
  .strict();

// --- facebank sync (issue 16)
export const syncSchema = z
  .object({
    enabled: z.boolean().default(false).describe('Replicate the facebank with the other appliances of the site through the MQTT broker (mqtt.url).'),
    applianceId: z
      .string()
      .regex(/^[a-zA-Z0-9_.-]{1,64}$/, 'letters, digits, "_", "." and "-" only')
      .optional()
      .describe('This appliance in the sync (origin of its records); default: the host name.'),
    key: z.string().optional().describe('Site key, 32 bytes as hex or base64, the same on every appliance; set FACEGATE_SYNC_KEY rather than writing it here.'),
    allowPlaintext: z
      .boolean()
      .default(false)
      .describe('Sync without a site key: faces and embeddings go to the broker in clear. Off: sync refuses to start without a key.'),
    tombstoneDays: z
      .number()
      .min(0.0001)
      .max(3650)
      .default(30)
      .describe('How long a deletion stays retained on the broker; an appliance offline for longer may bring the deleted record back.'),
    adoptSite: z
      .boolean()
      .default(false)
      .describe(
        "Make this appliance's key the site's: it publishes even when its key opens none of the records on the broker, replacing the ones it holds. For a site key change (on one appliance, for one start); leave it off otherwise.",
      ),
    crashBeforeStateWrite: z
      .boolean()
      .default(false)
      .describe(
        'Test hook: the process kills itself (SIGKILL) after a local facebank change is saved and before the sync state notes it. Never set in production.',
      ),
  })
  .strict();
export type SyncConfig = z.infer<typeof syncSchema>;
// --- end facebank sync

export const configSchema = z
  .object({
    dataDir: z.string().default('/var/lib/facegate').describe('Facebank, samples, events and secrets. Overridden by --data-dir or FACEGATE_DATA_DIR.'),
    log: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace']).default('info').describe('Log level; or set FACEGATE_LOG_LEVEL.') })
      .strict()
      .default({ level: 'info' })
      .describe('Logging (JSON lines on stderr).'),
    ffmpeg: z
      .object({ path: z.string().optional().describe('ffmpeg binary; default: the one from @ffmpeg-installer/ffmpeg.') })
      .strict()
      .default({})
      .describe('Video decoding.'),
    cameras: z.array(cameraSchema).default([]).describe('Video sources to watch.'),
    engine: engineSchema.default(engineSchema.parse({})).describe('Models and the inference runtime.'),
    pipeline: pipelineSchema.default(pipelineSchema.parse({})).describe('Frame sampling and face quality gates.'),
    match: matchSchema.default(matchSchema.parse({})).describe('Matching faces to enrolled people.'),
    track: trackSchema.default(trackSchema.parse({})).describe('Following faces across frames.'),
    mqtt: mqttSchema.default(mqttSchema.parse({})).describe('Event publishing over MQTT.'),
    web: webSchema.default(webSchema.parse({})).describe('Admin web page and HTTP API.'),
    sync: syncSchema.default(syncSchema.parse({})).describe('Facebank replication between appliances over MQTT.'),
    debug: z
      .object({
        stallLoopAfterSeconds: z
          .number()
          .positive()
          .max(86_400)
          .optional()
          .describe(
            'Test hook: the pipeline loop hangs this long after it starts (its inference never returns), so the systemd watchdog stops being fed. Never set in production.',
          ),
      })
      .strict()
      .default({})
      .describe('Fault injection for tests.'),
  })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.cameras.forEach((cam, i) => {
      if (seen.has(cam.name)) ctx.addIssue({ code: 'custom', path: ['cameras', i, 'name'], message: `duplicate camera name "${cam.name}"` });
      seen.add(cam.name);
    });
    const d = c.engine.detector;
    if (BRING_YOUR_OWN_DETECTORS.includes(d.kind) && !d.model)
      ctx.addIssue({ code: 'custom', path: ['engine', 'detector', 'model'], message: `required for detector kind "${d.kind}"` });
    const e = c.engine.embedder;
    if (BRING_YOUR_OWN_EMBEDDERS.includes(e.kind) && !e.model)
      ctx.addIssue({ code: 'custom', path: ['engine', 'embedder', 'model'], message: `required for embedder kind "${e.kind}"` });
  });

export type Config = z.infer<typeof configSchema>;
export type CameraConfig = z.infer<typeof cameraSchema>;
export type EngineConfig = z.infer<typeof engineSchema>;
export type QualityConfig = z.infer<typeof qualitySchema>;
export type MatchConfig = z.infer<typeof matchSchema>;
export type TrackConfig = z.infer<typeof trackSchema>;
export type MqttConfig = z.infer<typeof mqttSchema>;
export type WebConfig = z.infer<typeof webSchema>;

/** The config with every default filled in. */
export const defaultConfig = (): Config => configSchema.parse({});

/**
 * A stand-in for Home Assistant's MQTT integration, written from its code: it subscribes as discovery.py does,
 * validates each discovery config with the rules of the platform's schema, and keeps each entity's state and
 * availability as the platform's entity class does (binary_sensor expire_after, event ignoring retained messages,
 * image keeping the last payload bytes).
 *
 * Target: home-assistant/core `dev` after 2026.4 (the release that dropped `object_id` for `default_entity_id`), read
 * from these files under homeassistant/components/mqtt/ (commits as stored by the search index, 2026):
 * - discovery.py (00b08a436e4d): TOPIC_MATCHER `(?P<component>\w+)/(?:(?P<node_id>[a-zA-Z0-9_-]+)/)?(?P<object_id>[a-zA-Z0-9_-]+)/config`,
 *   subscriptions `<prefix>/+/+/config` and `<prefix>/+/+/+/config`, an empty payload removes the entity;
 * - const.py (dev, 2026-09): CONF_DEFAULT_ENTITY_ID = "default_entity_id", CONF_EXPIRE_AFTER, birth topic
 *   `<discovery prefix>/status` with "online";
 * - schemas.py: MQTT_ENTITY_COMMON_SCHEMA (availability, device with identifiers or connections, origin with a
 *   required name, unique_id, default_entity_id `<domain>.<object id>` as entity.py partitions it);
 * - binary_sensor.py: state_topic required, expire_after/off_delay positive ints, payload_on/payload_off strings,
 *   `available` false once expire_after passed without a message; event.py: event_types required, retained
 *   payloads ignored, JSON with `event_type` among event_types; image.py: exactly one of image_topic/url_topic,
 *   content_type only with image_topic, the payload bytes are the image.
 * Every DISCOVERY_SCHEMA there uses extra=REMOVE_EXTRA, so an unknown key is silently dropped; this validator
 * refuses unknown keys instead, so a misspelt option fails here rather than being ignored there.
 */
import mqtt, { type MqttClient } from 'mqtt';

const TOPIC_MATCHER = /^(\w+)\/(?:([a-zA-Z0-9_-]+)\/)?([a-zA-Z0-9_-]+)\/config$/;
const ENTITY_ID = /^([a-z0-9_]+)\.([a-z0-9_]+)$/;
const BINARY_SENSOR_DEVICE_CLASSES = ['presence', 'occupancy', 'motion', 'door', 'connectivity', 'problem'];
const SENSOR_STATE_CLASSES = ['measurement', 'measurement_angle', 'total', 'total_increasing'];
const EVENT_DEVICE_CLASSES = ['button', 'doorbell', 'motion'];

type Config = Record<string, unknown>;

/** Keys of MQTT_ENTITY_COMMON_SCHEMA + MQTT_AVAILABILITY_SCHEMA (schemas.py). */
const COMMON_KEYS = [
  'availability',
  'availability_mode',
  'availability_template',
  'availability_topic',
  'payload_available',
  'payload_not_available',
  'device',
  'origin',
  'enabled_by_default',
  'entity_category',
  'entity_picture',
  'icon',
  'json_attributes_topic',
  'json_attributes_template',
  'default_entity_id',
  'unique_id',
  'name',
  'qos',
  'encoding',
];
/** MQTT_RO_SCHEMA (config.py): state_topic required, value_template. */
const RO_KEYS = ['state_topic', 'value_template'];
const PLATFORM_KEYS: Record<string, string[]> = {
  binary_sensor: [...RO_KEYS, 'device_class', 'expire_after', 'force_update', 'off_delay', 'payload_off', 'payload_on'],
  sensor: [
    ...RO_KEYS,
    'device_class',
    'expire_after',
    'force_update',
    'last_reset_value_template',
    'state_class',
    'unit_of_measurement',
    'suggested_display_precision',
    'options',
  ],
  event: [...RO_KEYS, 'device_class', 'event_types'],
  image: ['content_type', 'image_encoding', 'image_topic', 'url_template', 'url_topic'],
};

const isStr = (v: unknown): v is string => typeof v === 'string';
const positiveInt = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
/** util.py valid_subscribe_topic: non-empty, no NUL, wildcards only as whole levels. */
const validSubscribeTopic = (v: unknown) =>
  isStr(v) &&
  v.length > 0 &&
  !v.includes('\0') &&
  v.split('/').every((l, i, a) => (l !== '#' || i === a.length - 1) && (!/[#+]/.test(l) || l === '#' || l === '+'));

/** The problems Home Assistant would have with this config; [] when it would accept it. */
export function validateConfig(component: string, cfg: Config): string[] {
  const errs: string[] = [];
  const allowed = PLATFORM_KEYS[component];
  if (!allowed) return [`integration ${component} is not one this validator knows`];
  for (const k of Object.keys(cfg)) if (!COMMON_KEYS.includes(k) && !allowed.includes(k)) errs.push(`unknown key ${k}`);
  if ('object_id' in cfg) errs.push('object_id is no longer accepted: use default_entity_id');
  if (cfg.name !== undefined && cfg.name !== null && !isStr(cfg.name)) errs.push('name must be a string or null');
  if (cfg.unique_id !== undefined && !isStr(cfg.unique_id)) errs.push('unique_id must be a string');
  if (cfg.default_entity_id !== undefined) {
    const m = isStr(cfg.default_entity_id) ? ENTITY_ID.exec(cfg.default_entity_id) : null;
    if (!m) errs.push(`default_entity_id ${JSON.stringify(cfg.default_entity_id)} is not an entity id`);
    else if (m[1] !== component) errs.push(`default_entity_id ${m[0]} is not in the ${component} domain`);
  }
  if (cfg.availability_topic !== undefined && !validSubscribeTopic(cfg.availability_topic)) errs.push('availability_topic is not a valid topic');
  if (cfg.availability !== undefined && cfg.availability_topic !== undefined) errs.push('availability and availability_topic are exclusive');
  for (const k of ['payload_available', 'payload_not_available']) if (cfg[k] !== undefined && !isStr(cfg[k])) errs.push(`${k} must be a string`);
  if (cfg.icon !== undefined && !(isStr(cfg.icon) && /^[a-z0-9_-]+:[a-z0-9_-]+$/.test(cfg.icon))) errs.push('icon must be prefix:name');
  if (cfg.device !== undefined) {
    const d = cfg.device as Config;
    const ids = d.identifiers;
    const idList = Array.isArray(ids) ? ids : ids === undefined ? [] : [ids];
    if (!idList.every(isStr)) errs.push('device.identifiers must be strings');
    if (!idList.length && !(Array.isArray(d.connections) && d.connections.length)) errs.push('device needs identifiers or connections');
    for (const k of ['name', 'manufacturer', 'model', 'sw_version', 'hw_version', 'via_device', 'serial_number', 'suggested_area'])
      if (d[k] !== undefined && !isStr(d[k])) errs.push(`device.${k} must be a string`);
  }
  if (cfg.origin !== undefined && !isStr((cfg.origin as Config).name)) errs.push('origin.name is required');
  if (component !== 'image' && !validSubscribeTopic(cfg.state_topic)) errs.push('state_topic is required');
  if (component === 'binary_sensor') {
    for (const k of ['expire_after', 'off_delay']) if (cfg[k] !== undefined && !positiveInt(cfg[k])) errs.push(`${k} must be a positive integer`);
    for (const k of ['payload_on', 'payload_off']) if (cfg[k] !== undefined && !isStr(cfg[k])) errs.push(`${k} must be a string`);
    if (cfg.device_class !== undefined && !BINARY_SENSOR_DEVICE_CLASSES.includes(cfg.device_class as string)) errs.push('unknown binary_sensor device_class');
  }
  if (component === 'sensor') {
    if (cfg.expire_after !== undefined && !positiveInt(cfg.expire_after)) errs.push('expire_after must be a positive integer');
    if (cfg.state_class !== undefined && !SENSOR_STATE_CLASSES.includes(cfg.state_class as string)) errs.push('unknown state_class');
    if (cfg.unit_of_measurement !== undefined && !isStr(cfg.unit_of_measurement)) errs.push('unit_of_measurement must be a string');
  }
  if (component === 'event') {
    const types = cfg.event_types;
    if (!Array.isArray(types) || !types.length || !types.every(isStr)) errs.push('event_types (a list of strings) is required');
    if (cfg.device_class !== undefined && !EVENT_DEVICE_CLASSES.includes(cfg.device_class as string)) errs.push('unknown event device_class');
  }
  if (component === 'image') {
    const has = (k: string) => cfg[k] !== undefined;
    if (has('image_topic') === has('url_topic')) errs.push('exactly one of image_topic and url_topic');
    if (has('image_topic') && !validSubscribeTopic(cfg.image_topic)) errs.push('image_topic is not a valid topic');
    if (has('content_type') && has('url_topic')) errs.push('content_type cannot be used with url_topic');
    if (has('image_encoding') && cfg.image_encoding !== 'b64') errs.push('image_encoding can only be b64');
  }
  return errs;
}

export interface SimEntity {
  component: string;
  discoveryId: string;
  config: Config;
  /** Binary sensor: true/false/null (unknown); sensor: the text; event: the last event_type; image: null. */
  state: unknown;
  /** Event entity: the attributes of the last event. */
  attributes: Record<string, unknown> | null;
  /** Image entity: the last image bytes. */
  image: Buffer | null;
  /** expire_after passed without a state message. */
  expired: boolean;
  availableByTopic: boolean;
  events: { type: string; attributes: Record<string, unknown> }[];
  timer: NodeJS.Timeout | null;
}

/** One running Home Assistant: its discovered entities, what it warned about, and a way to restart it. */
export class HomeAssistantSim {
  readonly entities = new Map<string, SimEntity>();
  readonly warnings: string[] = [];
  private client: MqttClient | null = null;

  constructor(
    private readonly url: string,
    private readonly discoveryPrefix = 'homeassistant',
  ) {}

  /** Connects, subscribes to discovery like discovery.py, then announces itself (birth message) like its MQTT client. */
  async start(): Promise<void> {
    const client = await mqtt.connectAsync(this.url, { reconnectPeriod: 0 });
    this.client = client;
    client.on('message', (topic, payload, packet) => this.onMessage(topic, payload, packet.retain));
    await client.subscribeAsync([`${this.discoveryPrefix}/+/+/config`, `${this.discoveryPrefix}/+/+/+/config`], { qos: 0 });
    await client.publishAsync(`${this.discoveryPrefix}/status`, 'online', { qos: 0, retain: false });
  }

  async stop(): Promise<void> {
    for (const e of this.entities.values()) if (e.timer) clearTimeout(e.timer);
    await this.client?.endAsync(true);
    this.client = null;
  }

  /** The entity whose unique_id is this. */
  byUniqueId(uniqueId: string): SimEntity | undefined {
    return [...this.entities.values()].find((e) => e.config.unique_id === uniqueId);
  }

  /** As binary_sensor.py and entity.py's `available`: availability topic says online and the state has not expired. */
  available(e: SimEntity): boolean {
    return e.availableByTopic && !e.expired;
  }

  private onMessage(topic: string, payload: Buffer, retained: boolean) {
    if (topic.startsWith(`${this.discoveryPrefix}/`) && topic.endsWith('/config')) return this.onDiscovery(topic, payload);
    for (const e of this.entities.values()) {
      const c = e.config;
      if (c.availability_topic === topic) e.availableByTopic = payload.toString() === (c.payload_available ?? 'online');
      if (c.state_topic === topic || c.image_topic === topic) this.onState(e, payload, retained);
    }
  }

  private onDiscovery(topic: string, payload: Buffer) {
    const m = TOPIC_MATCHER.exec(topic.slice(this.discoveryPrefix.length + 1));
    if (!m) return void this.warnings.push(`Received message on illegal discovery topic '${topic}'`);
    const [, component, nodeId, objectId] = m;
    const id = `${component} ${nodeId ? `${nodeId} ${objectId}` : objectId}`;
    const old = this.entities.get(id);
    if (old?.timer) clearTimeout(old.timer);
    if (!payload.length) return void this.entities.delete(id);
    let config: Config;
    try {
      config = JSON.parse(payload.toString()) as Config;
    } catch {
      return void this.warnings.push(`Unable to parse JSON ${objectId}`);
    }
    const errs = validateConfig(component!, config);
    if (errs.length) return void this.warnings.push(`${topic}: ${errs.join('; ')}`);
    const entity: SimEntity = {
      component: component!,
      discoveryId: id,
      config,
      state: null,
      attributes: null,
      image: null,
      expired: positiveInt(config.expire_after) && (config.expire_after as number) > 0,
      availableByTopic: config.availability_topic === undefined,
      events: old?.events ?? [],
      timer: null,
    };
    this.entities.set(id, entity);
    const subscribe = [config.state_topic, config.image_topic, config.availability_topic].filter(isStr);
    void this.client?.subscribeAsync(subscribe, { qos: 0 });
  }

  private onState(e: SimEntity, payload: Buffer, retained: boolean) {
    const c = e.config;
    if (e.component === 'image') return void (e.image = payload);
    if (e.component === 'event') {
      if (retained) return; // event.py ignores replayed retained payloads
      let data: Record<string, unknown>;
      try {
        data = JSON.parse(payload.toString()) as Record<string, unknown>;
      } catch {
        return void this.warnings.push(`No valid JSON event payload on ${c.state_topic as string}`);
      }
      const type = data.event_type;
      if (!isStr(type) || !(c.event_types as string[]).includes(type)) return void this.warnings.push(`Invalid event type ${String(type)}`);
      delete data.event_type;
      e.state = type;
      e.attributes = data;
      e.events.push({ type, attributes: data });
      return;
    }
    const expire = c.expire_after as number | undefined;
    if (expire) {
      e.expired = false;
      if (e.timer) clearTimeout(e.timer);
      e.timer = setTimeout(() => (e.expired = true), expire * 1000);
    }
    const text = payload.toString();
    if (e.component === 'sensor') return void (e.state = text);
    if (!text.trim()) return; // binary_sensor.py: an empty payload is ignored (logged at debug level only)
    if (text === (c.payload_on ?? 'ON')) e.state = true;
    else if (text === (c.payload_off ?? 'OFF')) e.state = false;
    else if (text === 'None') e.state = null;
    else this.warnings.push(`No matching payload found for entity ${String(c.name)}: '${text}'`);
  }
}

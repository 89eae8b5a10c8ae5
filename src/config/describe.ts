/** Lists every option of the schema (path, type, default, description) for `facegate config schema` and docs. */
import { z } from 'zod';
import { configSchema } from './schema.js';

export interface OptionDoc {
  /** `mqtt.tls.ca`, `cameras[].url`. */
  path: string;
  type: string;
  /** JSON of the default, or undefined when there is none. */
  default?: string;
  required: boolean;
  description: string;
}

type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: JsonSchema[];
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  pattern?: string;
};

/** The config's JSON Schema (input side: defaults are shown, nothing is required that has one). */
export const configJsonSchema = (): JsonSchema => z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;

function typeName(s: JsonSchema): string {
  if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.anyOf) return s.anyOf.map(typeName).join(' | ');
  let t = Array.isArray(s.type) ? s.type.join(' | ') : (s.type ?? 'any');
  if (t === 'array' && s.items) {
    const item = s.items.type === 'object' ? 'object' : typeName(s.items);
    t = item.includes(' | ') ? `(${item})[]` : `${item}[]`;
  }
  const range: string[] = [];
  if (s.minimum !== undefined) range.push(`>= ${s.minimum}`);
  if (s.exclusiveMinimum !== undefined) range.push(`> ${s.exclusiveMinimum}`);
  if (s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER) range.push(`<= ${s.maximum}`);
  return range.length ? `${t} (${range.join(', ')})` : t;
}

function walk(s: JsonSchema, prefix: string, required: boolean, out: OptionDoc[]): void {
  if (prefix) {
    out.push({
      path: prefix,
      type: typeName(s),
      ...(s.default !== undefined && s.type !== 'object' ? { default: JSON.stringify(s.default) } : {}),
      required,
      description: s.description ?? '',
    });
  }
  if (s.type === 'object' && s.properties) {
    for (const [key, child] of Object.entries(s.properties)) {
      walk(child, prefix ? `${prefix}.${key}` : key, (s.required ?? []).includes(key), out);
    }
  } else if (s.type === 'array' && s.items?.type === 'object') {
    for (const [key, child] of Object.entries(s.items.properties ?? {})) {
      walk(child, `${prefix}[].${key}`, (s.items.required ?? []).includes(key), out);
    }
  }
}

/** Every option, parents before children, in schema order. */
export function describeOptions(): OptionDoc[] {
  const out: OptionDoc[] = [];
  walk(configJsonSchema(), '', false, out);
  return out;
}

/** The options as plain text, one block per option. */
export function formatOptions(options: OptionDoc[]): string {
  return options
    .map((o) => {
      const head = `${o.path}  <${o.type}>${o.default !== undefined ? `  default: ${o.default}` : o.required ? '  (required)' : '  (optional)'}`;
      return o.description ? `${head}\n    ${o.description}` : head;
    })
    .join('\n');
}

/** The options as a Markdown table (for the docs). */
export function formatOptionsMarkdown(options: OptionDoc[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  return [
    '| Option | Type | Default | Description |',
    '| --- | --- | --- | --- |',
    ...options.map(
      (o) =>
        `| \`${o.path}\` | ${cell(o.type)} | ${o.default !== undefined ? `\`${cell(o.default)}\`` : o.required ? 'required' : ''} | ${cell(o.description)} |`,
    ),
  ].join('\n');
}

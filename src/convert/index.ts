/** TFLite → ONNX conversion entry point for one model spec. */
import { readTflite } from './tflite.js';
import { convertTflite, type ConvertOptions, type InputSpec } from './tflite-to-onnx.js';

export interface ConvertResult {
  onnx: Uint8Array;
  nodes: number;
  prelus: number;
  inputHW: [number | string, number | string];
}

/**
 * Converts TFLite bytes to an ONNX ModelProto. `addOutputs` declares the graph outputs from the converted values.
 */
export function tfliteToOnnx(
  bytes: Uint8Array,
  input: InputSpec,
  name: string,
  addOutputs: (c: ReturnType<typeof convertTflite>) => void,
  meta: { producer: string; version: string; doc?: string },
  opts: ConvertOptions = {},
): ConvertResult {
  const model = readTflite(bytes);
  const c = convertTflite(model, input, name, opts);
  addOutputs(c);
  return { onnx: c.graph.encode(meta), nodes: c.graph.nodeCount, prelus: c.preluCount, inputHW: c.inputHW };
}

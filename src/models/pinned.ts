/**
 * Third-party models obtained at set-up from a pinned source (never at run time): where each comes from, its
 * sha256 and licence. The file is verified before it is used; see fetch.ts.
 */

export interface PinnedModel {
  /** Manifest id. */
  id: 'yunet-n';
  /** File name in engines/. */
  file: string;
  /** File name at the source (and in a mirror folder or URL). */
  sourceName: string;
  sha256: string;
  /** The pinned download URL. */
  url: string;
  repo: string;
  commit: string;
  path: string;
  licence: string;
  /** The upstream copyright lines kept with the licence text. */
  copyright: string[];
  /** Largest body accepted, bytes (the file is far smaller). */
  maxBytes: number;
  notes: string;
}

export const YUNET_N: PinnedModel = {
  id: 'yunet-n',
  file: 'yunet-n.onnx',
  sourceName: 'yunet_n_dynamic.onnx',
  sha256: '104ee26c71d5c270ce79a6b3dced91c91013260d29a6bf18f9296c5b8c4c2b12',
  url: 'https://github.com/ShiqiYu/libfacedetection.train/raw/0047ac24afb1a50a0c6105001c89d1b5b805dbf1/onnx/yunet_n_dynamic.onnx',
  repo: 'github.com/ShiqiYu/libfacedetection.train',
  commit: '0047ac24afb1a50a0c6105001c89d1b5b805dbf1',
  path: 'onnx/yunet_n_dynamic.onnx',
  licence: 'Apache-2.0',
  copyright: [
    'Copyright 2018-2022 OpenMMLab. All rights reserved.',
    'Copyright 2022 OpenMMLab. All rights reserved.',
    'Copyright (c) 2022 Shiqi Yu <shiqi.yu@gmail.com>',
  ],
  maxBytes: 8 * 1024 * 1024,
  notes:
    'YuNet-n face detector (libfacedetection.train), dynamic input: float NCHW BGR 0..255, sides multiples of 32. ' +
    'Outputs per stride 8/16/32: cls_<s>, obj_<s> [N,cells,1], bbox_<s> [N,cells,4], kps_<s> [N,cells,10]; ' +
    'score = sqrt(cls * obj). Obtained at set-up from the pinned source (or a mirror of it) and verified by sha256.',
};

export const PINNED_MODELS: PinnedModel[] = [YUNET_N];

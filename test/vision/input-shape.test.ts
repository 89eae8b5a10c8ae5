import { describe, expect, it } from 'vitest';
import { nativeShape } from '../../src/vision/input-shape.js';

describe('dynamic detector input shape', () => {
  it('keeps the frame aspect in multiples of 32, never enlarging', () => {
    expect(nativeShape(640, 360, 960, 32)).toEqual([640, 384]);
    expect(nativeShape(1280, 720, 640, 32)).toEqual([640, 384]);
    expect(nativeShape(250, 250, 960, 32)).toEqual([256, 256]);
    expect(nativeShape(720, 1280, 960, 32)).toEqual([544, 960]);
    expect(nativeShape(4000, 3000, 960, 32)).toEqual([960, 736]);
    expect(nativeShape(10, 5, 960, 32)).toEqual([32, 32]);
  });
  it('refuses an empty image', () => {
    expect(() => nativeShape(0, 10, 640, 32)).toThrow(/No detector input/);
  });
});

import { describe, expect, it } from 'vitest';
import { Camera } from '../../src/ingest/camera.js';
import { FacegateError } from '../../src/util/errors.js';
import { OutputSizeReader, failureReason, inputOptionsFor, sourceKind } from '../../src/ingest/ffmpeg.js';
import { redactUrl } from '../../src/util/redact.js';

describe('ffmpeg command lines and stderr', () => {
  it('chooses input options per source kind', () => {
    expect(sourceKind('rtsp://cam/x')).toBe('rtsp');
    expect(sourceKind('https://cam/x.m3u8')).toBe('http');
    expect(sourceKind('/dev/video0')).toBe('v4l2');
    expect(sourceKind('./clip.mp4')).toBe('file');
    expect(inputOptionsFor({ url: 'rtsp://cam/x' })).toEqual(['-nostdin', '-rtsp_transport', 'tcp']);
    expect(inputOptionsFor({ url: 'rtsp://cam/x', inputOptions: ['-rtsp_transport', 'udp'] })).toEqual(['-nostdin', '-rtsp_transport', 'udp']);
    expect(inputOptionsFor({ url: '/dev/video2' })).toEqual(['-nostdin', '-f', 'v4l2']);
    expect(inputOptionsFor({ url: 'a.mp4', loop: true })).toEqual(['-nostdin', '-stream_loop', '-1', '-re']);
    expect(inputOptionsFor({ url: 'a.mp4' })).toEqual(['-nostdin', '-re']);
  });

  it('reads the output size only from the output section', () => {
    const r = new OutputSizeReader();
    expect(r.read('    Stream #0:0(und): Video: h264 (Constrained Baseline) (avc1 / 0x31637661), yuv420p, 640x360 [SAR 1:1 DAR 16:9]')).toBeNull();
    expect(r.read("Output #0, rawvideo, to 'pipe:1':")).toBeNull();
    expect(r.read('    Stream #0:0(und): Video: rawvideo (RGB[24] / 0x18424752), rgb24, 320x180 [SAR 1:1 DAR 16:9], q=2-31, 6912 kb/s, 5 fps')).toEqual({
      width: 320,
      height: 180,
    });
  });

  it('turns ffmpeg failures into short sentences', () => {
    expect(
      failureReason(['[rtsp @ 0x1] method DESCRIBE failed: 401 Unauthorized', 'rtsp://x: Server returned 401 Unauthorized (authorization failed)']),
    ).toMatch(/401/);
    expect(failureReason(['[tcp @ 0x5] Connection to tcp://127.0.0.1:1?timeout=0 failed: Connection refused'])).toMatch(/connection refused/);
    expect(failureReason(['/x.mp4: No such file or directory'])).toMatch(/no such file/);
    expect(failureReason(['x.bin: Invalid data found when processing input'])).toMatch(/invalid data/);
    expect(failureReason(['frame=  10 fps=5.0 q=-0.0 size=N/A'])).toBeNull();
  });

  it('removes credentials from URLs', () => {
    expect(redactUrl('rtsp://admin:s3cret@10.0.0.2:554/live failed')).toBe('rtsp://***@10.0.0.2:554/live failed');
    expect(redactUrl('http://10.0.0.2/x')).toBe('http://10.0.0.2/x');
  });

  it('a missing ffmpeg binary is a clear error at start, not a crash later', () => {
    const cam = new Camera({ camera: { name: 'x', url: 'a.mp4' }, ffmpegPath: '/nonexistent/ffmpeg' });
    expect(() => cam.start()).toThrow(FacegateError);
    expect(() => cam.start()).toThrow(/ffmpeg not found at \/nonexistent\/ffmpeg/);
  });
});

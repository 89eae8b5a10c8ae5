/** ffmpeg command lines and stderr reading for camera sources (no process handling here). */
import ffmpegInstaller from '@ffmpeg-installer/ffmpeg';

export type SourceKind = 'rtsp' | 'http' | 'v4l2' | 'file';

/** The bundled ffmpeg binary unless a path is configured. */
export const ffmpegBinary = (configured?: string): string => configured ?? ffmpegInstaller.path;

export function sourceKind(url: string): SourceKind {
  if (/^rtsps?:\/\//i.test(url)) return 'rtsp';
  if (/^https?:\/\//i.test(url)) return 'http';
  if (/^\/dev\/video\d+$/.test(url)) return 'v4l2';
  return 'file';
}

/** file:///x → /x; everything else unchanged. */
export const inputPath = (url: string): string => (/^file:\/\//i.test(url) ? decodeURIComponent(url.replace(/^file:\/\//i, '')) : url);

export interface SourceSpec {
  url: string;
  loop?: boolean;
  inputOptions?: string[];
}

/** Input options for a source: transport, format, looping and pacing. User options come last. */
export function inputOptionsFor(src: SourceSpec): string[] {
  const user = src.inputOptions ?? [];
  const opts = ['-nostdin'];
  switch (sourceKind(src.url)) {
    case 'rtsp':
      if (!user.includes('-rtsp_transport')) opts.push('-rtsp_transport', 'tcp');
      break;
    case 'v4l2':
      if (!user.includes('-f')) opts.push('-f', 'v4l2');
      break;
    case 'file':
      if (src.loop) opts.push('-stream_loop', '-1');
      opts.push('-re');
      break;
    case 'http':
      break;
  }
  return [...opts, ...user];
}

/** Output options: raw rgb24 frames at `fps`, `width` wide, even height keeping the aspect ratio. */
export const outputOptionsFor = (fps: number, width: number): string[] => [
  '-an',
  '-sn',
  '-vf',
  `fps=${fps},scale=${width}:-2`,
  '-pix_fmt',
  'rgb24',
  '-f',
  'rawvideo',
];

/**
 * Reads the output stream's size from ffmpeg's stderr, e.g.
 * "Stream #0:0: Video: rawvideo (RGB[24] / 0x18424752), rgb24, 320x180 [SAR 1:1 DAR 16:9], q=2-31, ..."
 * Call with every line; it only answers once the "Output #0" header has been seen.
 */
export class OutputSizeReader {
  private inOutput = false;

  read(line: string): { width: number; height: number } | null {
    if (/^\s*Output #0/.test(line)) this.inOutput = true;
    else if (/^\s*Input #/.test(line)) this.inOutput = false;
    if (!this.inOutput) return null;
    const m = /Stream #\d+:\d+.*Video: rawvideo.*?,\s*(\d+)x(\d+)/.exec(line);
    return m ? { width: Number(m[1]), height: Number(m[2]) } : null;
  }
}

const REASONS: [RegExp, string][] = [
  [/401 Unauthorized/i, 'the camera refused the user name or password (401 Unauthorized)'],
  [/403 Forbidden/i, 'the camera refused access (403 Forbidden)'],
  [/404 Not Found/i, 'the stream path does not exist on the camera (404 Not Found)'],
  [/Server returned 5\d\d|5\d\d (Internal Server Error|Service Unavailable)/i, 'the camera server failed (HTTP 5xx)'],
  [/Connection refused/i, 'connection refused: nothing is listening at that address'],
  [/timed out|Operation not permitted.*timeout/i, 'the connection timed out'],
  [/No route to host|Network is unreachable/i, 'the camera address cannot be reached (no route to host)'],
  [/Name or service not known|Failed to resolve hostname|Temporary failure in name resolution/i, 'the camera host name cannot be resolved'],
  [/No such file or directory/i, 'no such file or device'],
  [/Permission denied/i, 'permission denied opening the source'],
  [/Device or resource busy/i, 'the video device is busy'],
  [/Invalid data found when processing input/i, 'invalid data: the source is not a readable video stream'],
  [/(Decoder|Codec) .*not found|codec not (currently )?supported|Unknown decoder/i, 'codec not found: ffmpeg cannot decode this stream'],
  [/does not contain any stream|Output file #0 does not contain|matches no streams/i, 'the source has no video stream'],
  [/Connection reset by peer|End of file|Broken pipe/i, 'the connection was closed by the camera'],
];

/** A short sentence for why ffmpeg failed, from its stderr lines (newest last); null when nothing is recognised. */
export function failureReason(lines: readonly string[]): string | null {
  for (let i = lines.length - 1; i >= 0; i--) {
    for (const [re, sentence] of REASONS) if (re.test(lines[i]!)) return sentence;
  }
  return null;
}

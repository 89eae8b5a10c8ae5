/**
 * What an unclaimed appliance tells its operator: the claim code, every address the page answers on and the
 * certificate's fingerprint, as plain lines on stderr (outside the log's level filter, so no log level hides it).
 */
import os from 'node:os';

export interface ClaimNotice {
  claimCode: string;
  urls: readonly string[];
  /** SHA-256 fingerprint of the page's certificate; null without HTTPS. */
  fingerprint: string | null;
}

const ANY = new Set(['0.0.0.0', '::']);

/**
 * The URLs the page answers on. Bound to every interface (0.0.0.0, or :: which also takes IPv4), that is one per
 * interface address, the ones other devices can use first and loopback last; link-local IPv6 is left out (it
 * needs a zone). Bound to one host, that host.
 */
export function pageUrls(host: string, port: number, tls: boolean): string[] {
  const url = (h: string) => `${tls ? 'https' : 'http'}://${h.includes(':') ? `[${h}]` : h}:${port}`;
  if (!ANY.has(host)) return [url(host)];
  const addresses = Object.values(os.networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((i) => (host === '::' || i.family === 'IPv4') && !(i.family === 'IPv6' && /^fe80:/i.test(i.address)))
    .sort((a, b) => Number(a.internal) - Number(b.internal) || Number(a.family === 'IPv6') - Number(b.family === 'IPv6'));
  const urls = [...new Set(addresses.map((i) => url(i.address)))];
  return urls.length ? urls : [url(host === '::' ? '::1' : '127.0.0.1')];
}

/** The notice as lines of text (the claim code on a line of its own, "Claim code: XXXX-XXXX-XXXX"). */
export function claimNoticeText(n: ClaimNotice): string {
  const lines = [
    '',
    'facegate: the admin page is not set up yet. Open it and enter this one-time claim code to choose the admin password.',
    `  Claim code: ${n.claimCode}`,
    ...n.urls.map((u, i) => `  ${i === 0 ? 'Admin page:' : '           '} ${u}`),
  ];
  if (n.fingerprint)
    lines.push(`  Certificate SHA-256: ${n.fingerprint}`, '  (before trusting the page, check that the browser shows this fingerprint for its certificate)');
  lines.push('  `sudo facegate status` shows the code again until it is used.', '');
  return lines.join('\n');
}

/** Writes the notice to stderr. */
export const noticeToStderr = (text: string): void => void process.stderr.write(`${text}\n`);

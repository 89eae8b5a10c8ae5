/** Where the page answers, as the claim notice tells it: every interface address when bound to all of them. */
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { claimNoticeText, pageUrls } from '../../src/web/claim-notice.js';

const v4 = Object.values(os.networkInterfaces())
  .flatMap((l) => l ?? [])
  .filter((i) => i.family === 'IPv4');

describe('page addresses', () => {
  it('bound to 0.0.0.0: one URL per IPv4 interface address, other devices’ first, never "localhost"', () => {
    const urls = pageUrls('0.0.0.0', 8080, true);
    expect(urls.sort()).toEqual(v4.map((i) => `https://${i.address}:8080`).sort());
    expect(urls.join(' ')).not.toContain('localhost');
    const external = v4.find((i) => !i.internal);
    if (external) expect(pageUrls('0.0.0.0', 8080, true)[0]).toBe(`https://${external.address}:8080`);
  });

  it('bound to :: it also lists IPv6 addresses in brackets, without link-local ones; one host is that host', () => {
    const urls = pageUrls('::', 443, true);
    for (const i of v4) expect(urls).toContain(`https://${i.address}:443`);
    expect(urls.some((u) => /\[fe80:/i.test(u))).toBe(false);
    expect(pageUrls('192.0.2.7', 8080, false)).toEqual(['http://192.0.2.7:8080']);
    expect(pageUrls('::1', 8080, false)).toEqual(['http://[::1]:8080']);
  });

  it('the notice puts the code on a line of its own with every address and the fingerprint', () => {
    const text = claimNoticeText({ claimCode: 'ABCD-EFGH-JKMN', urls: ['https://192.0.2.7:8080', 'https://127.0.0.1:8080'], fingerprint: 'AA:BB' });
    expect(text).toMatch(/^ {2}Claim code: ABCD-EFGH-JKMN$/m);
    expect(text).toMatch(/^ {2}Admin page: https:\/\/192\.0\.2\.7:8080$/m);
    expect(text).toMatch(/^ {14}https:\/\/127\.0\.0\.1:8080$/m);
    expect(text).toContain('Certificate SHA-256: AA:BB');
  });
});

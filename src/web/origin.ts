/**
 * Who is asking, and by which name: the client address and whether the request arrived over HTTPS (believing
 * X-Forwarded-For/-Proto only from web.trustedProxies when web.trustProxy is on), and the Host check that
 * stops DNS rebinding (a web page on evil.example whose name resolves to this appliance).
 */
import { BlockList, isIP } from 'node:net';
import os from 'node:os';
import type { WebConfig } from '../config/schema.js';

export interface RequestFacts {
  /** Client address for rate limiting and logs. */
  ip: string;
  /** The browser's connection is HTTPS (directly, or to a trusted proxy that says so). */
  https: boolean;
}

const plainIp = (a: string) => (a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a);

/** A matcher of web.trustedProxies: addresses or CIDR ranges, IPv4 or IPv6. */
export function proxyList(entries: readonly string[]): (ip: string) => boolean {
  const list = new BlockList();
  for (const e of entries) {
    const [addr, bitsText] = e.split('/') as [string, string];
    const family = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
    if (!isIP(addr)) continue;
    if (bitsText === undefined) list.addAddress(addr, family);
    else list.addSubnet(addr, Number(bitsText), family);
  }
  return (ip) => {
    const a = plainIp(ip);
    const v = isIP(a);
    return v !== 0 && list.check(a, v === 6 ? 'ipv6' : 'ipv4');
  };
}

/** The facts of a request from its socket address, its own TLS state and its headers. */
export function requestFacts(web: Pick<WebConfig, 'trustProxy' | 'trustedProxies'>): (remote: string, tls: boolean, headers: Headers) => RequestFacts {
  const trusted = proxyList(web.trustedProxies);
  return (remote, tls, headers) => {
    const ip = plainIp(remote);
    if (!web.trustProxy || !trusted(ip)) return { ip, https: tls };
    // The nearest hop that is not one of our proxies is the client.
    const hops = (headers.get('x-forwarded-for') ?? '')
      .split(',')
      .map((h) => plainIp(h.trim()))
      .filter((h) => isIP(h));
    let client = ip;
    for (let i = hops.length - 1; i >= 0; i--) {
      client = hops[i]!;
      if (!trusted(client)) break;
    }
    const proto = (headers.get('x-forwarded-proto') ?? '').split(',')[0]!.trim().toLowerCase();
    return { ip: client, https: proto ? proto === 'https' : tls };
  };
}

/** The host name of a Host header ("[::1]:8080" → "::1"), lower case, without a trailing dot; null when malformed. */
export function hostName(header: string | undefined): string | null {
  if (!header) return null;
  const h = header.trim().toLowerCase();
  const m = /^\[([0-9a-f:.]+)\](?::\d{1,5})?$/.exec(h) ?? /^([a-z0-9.-]+)(?::\d{1,5})?$/.exec(h);
  return m ? m[1]!.replace(/\.$/, '') : null;
}

/** This machine's own names: localhost, its hostname and hostname.local. */
export function ownNames(): string[] {
  const host = os.hostname().toLowerCase();
  return ['localhost', host, `${host.split('.')[0]}.local`];
}

/**
 * Whether a Host header names this appliance: any IP literal (no DNS involved, so no rebinding), its own
 * names, and web.allowedHosts (".example.lan" allows the subdomains too).
 */
export function hostCheck(allowedHosts: readonly string[]): (header: string | undefined) => boolean {
  const exact = new Set([...ownNames(), ...allowedHosts.filter((h) => !h.startsWith('.')).map((h) => h.toLowerCase().replace(/\.$/, ''))]);
  const suffixes = allowedHosts.filter((h) => h.startsWith('.')).map((h) => h.toLowerCase());
  return (header) => {
    const name = hostName(header);
    if (name === null) return false;
    if (isIP(name)) return true;
    if (exact.has(name) || name.endsWith('.localhost')) return true;
    return suffixes.some((s) => name.endsWith(s) || name === s.slice(1));
  };
}

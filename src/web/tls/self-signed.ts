/**
 * The admin page's TLS certificate: the user's own (web.certFile/keyFile), or a self-signed ECDSA P-256
 * certificate made at first start and kept in <dataDir>/tls (key mode 0600), valid for this machine's names.
 * The pair is written atomically; a stored pair that does not load (torn by a full disk) is kept aside and made
 * anew, and one the disk will not take is served from memory for this run (reported to the storage state).
 */
import { X509Certificate, createHash, createPublicKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { mkdir, readFile, rename } from 'node:fs/promises';
import { isIP } from 'node:net';
import path from 'node:path';
import { writeFileAtomic } from '../../store/atomic.js';
import { asideName } from '../../store/json-lines.js';
import { isStorageFault, type StorageReporter } from '../../store/storage-health.js';
import { FacegateError } from '../../util/errors.js';
import { bits, bool, ctx, octets, oid, seq, set, time, uint, utf8 } from './der.js';

export interface TlsCert {
  key: string;
  cert: string;
  /** SHA-256 fingerprint as browsers show it (AA:BB:...). */
  fingerprint: string;
  /** base64 SHA-256 of the public key (SPKI): what Chromium's --ignore-certificate-errors-spki-list takes. */
  spkiHash: string;
  /** Where it came from: "self-signed" (made here) or the user's certFile. */
  source: string;
  created: boolean;
}

const ECDSA_SHA256 = '1.2.840.10045.4.3.2';

const ipBytes = (ip: string): Buffer => {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  const [head, tail = ''] = ip.split('::') as [string, string];
  const part = (s: string) => (s ? s.split(':') : []);
  const h = part(head);
  const t = part(tail);
  const groups = ip.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return Buffer.concat(groups.map((g) => Buffer.from(g.padStart(4, '0'), 'hex')));
};

/** A self-signed server certificate for `names` (DNS names and IP addresses), valid `days` days. */
export function makeSelfSigned(names: string[], days = 3650): { key: string; cert: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const cn = names.find((n) => !isIP(n)) ?? 'facegate';
  const name = seq(set(seq(oid('2.5.4.3'), utf8(`facegate ${cn}`))), set(seq(oid('2.5.4.10'), utf8('facegate appliance'))));
  const now = Date.now();
  const san = seq(...names.map((n) => (isIP(n) ? ctx(7, false, ipBytes(n)) : ctx(2, false, Buffer.from(n, 'ascii')))));
  const ext = (id: string, critical: boolean, value: Buffer) => seq(oid(id), ...(critical ? [bool(true)] : []), octets(value));
  const tbs = seq(
    ctx(0, true, uint(Buffer.from([2]))),
    uint(randomBytes(16)),
    seq(oid(ECDSA_SHA256)),
    name,
    seq(time(new Date(now - 86_400_000)), time(new Date(now + days * 86_400_000))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    ctx(
      3,
      true,
      seq(
        ext('2.5.29.19', true, seq()),
        ext('2.5.29.15', true, bits(Buffer.from([0x80]))),
        ext('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'))),
        ext('2.5.29.17', false, san),
      ),
    ),
  );
  const der = seq(tbs, seq(oid(ECDSA_SHA256)), bits(sign('sha256', tbs, privateKey)));
  const b64 = der.toString('base64').replace(/.{1,64}/g, '$&\n');
  return { key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), cert: `-----BEGIN CERTIFICATE-----\n${b64}-----END CERTIFICATE-----\n` };
}

function describe(key: string, cert: string, source: string, created: boolean): TlsCert {
  let x: X509Certificate;
  try {
    x = new X509Certificate(cert);
  } catch (e) {
    throw new FacegateError('bad_certificate', `The certificate ${source} cannot be read: ${(e as Error).message}.`);
  }
  const spki = x.publicKey.export({ type: 'spki', format: 'der' });
  return { key, cert, fingerprint: x.fingerprint256, spkiHash: createHash('sha256').update(spki).digest('base64'), source, created };
}

/** The user's certificate when both files are configured, else the stored self-signed one (made when missing). */
export async function loadCertificate(opts: {
  dataDir: string;
  certFile?: string;
  keyFile?: string;
  names: string[];
  storage?: Pick<StorageReporter, 'reportWriteFailure' | 'reportRepair'>;
}): Promise<TlsCert> {
  if (opts.certFile || opts.keyFile) {
    if (!opts.certFile || !opts.keyFile) throw new FacegateError('bad_config', 'Set both web.certFile and web.keyFile, or neither.');
    const read = async (f: string) => {
      try {
        return await readFile(f, 'utf8');
      } catch (e) {
        throw new FacegateError('bad_certificate', `${f} cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}.`);
      }
    };
    return describe(await read(opts.keyFile), await read(opts.certFile), opts.certFile, false);
  }
  const dir = path.join(opts.dataDir, 'tls');
  const certPath = path.join(dir, 'cert.pem');
  const keyPath = path.join(dir, 'key.pem');
  let pair: [string, string] | null = null;
  try {
    pair = [await readFile(keyPath, 'utf8'), await readFile(certPath, 'utf8')];
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (pair) {
    try {
      const stored = describe(pair[0], pair[1], certPath, false);
      if (!createPublicKey(stored.key).equals(new X509Certificate(stored.cert).publicKey)) throw new Error('the key is not the certificate’s');
      return stored;
    } catch (e) {
      for (const f of [keyPath, certPath]) await rename(f, asideName(f)).catch(() => {});
      opts.storage?.reportRepair(
        certPath,
        `The stored self-signed certificate (${certPath}) did not load (${(e as Error).message}): kept aside as <name>.corrupt-<time>, a new one is made.`,
      );
    }
  }
  const made = makeSelfSigned(opts.names);
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFileAtomic(keyPath, made.key);
    await writeFileAtomic(certPath, made.cert);
  } catch (e) {
    // Served from memory for this run; the next start makes another (browsers ask to trust it again).
    if (!isStorageFault(e) || !opts.storage) throw e;
    opts.storage.reportWriteFailure(dir, e);
  }
  return describe(made.key, made.cert, certPath, true);
}

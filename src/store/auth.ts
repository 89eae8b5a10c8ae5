/**
 * Admin password (scrypt), API tokens (sha256 only) and sign-in sessions, persisted in <dataDir>/auth.json.
 * Secrets never leave this module in clear except a new token at creation, once.
 */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { FacegateError } from '../util/errors.js';
import { writeFileAtomic } from './atomic.js';

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 };
export const MIN_PASSWORD_LENGTH = 10;

const scrypt = (pw: string, salt: Buffer, keylen: number, opts: ScryptOptions) =>
  new Promise<Buffer>((resolve, reject) => scryptCb(pw, salt, keylen, { ...opts, maxmem: 64 * 1024 * 1024 }, (e, k) => (e ? reject(e) : resolve(k))));

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** "scrypt$N$r$p$salt$hash", salt and hash base64. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scrypt(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p });
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [N, r, p] = parts.slice(1, 4).map(Number);
  if (![N, r, p].every((n) => Number.isInteger(n) && n > 0)) return false;
  const salt = Buffer.from(parts[4], 'base64');
  const want = Buffer.from(parts[5], 'base64');
  if (want.length < 16) return false;
  const got = await scrypt(password, salt, want.length, { N, r, p });
  return timingSafeEqual(got, want);
}

/** Write JSON to `file` atomically (temp file + fsync + rename, mode 0600). */
export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomic(file, JSON.stringify(value));
}

export async function readJson<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new FacegateError('store_corrupt', `${file} could not be read: ${(e as Error).message}`, { cause: e });
  }
}

interface TokenRecord {
  id: string;
  name: string;
  hash: string;
  created: string;
  lastUsed: string | null;
}
interface SessionRecord {
  hash: string;
  csrf: string;
  expires: string;
}
interface AuthFile {
  passwordHash: string | null;
  tokens: TokenRecord[];
  sessions: SessionRecord[];
}

export type TokenInfo = Omit<TokenRecord, 'hash'>;
export interface Session {
  csrf: string;
  expires: string;
}

export interface AuthOptions {
  dataDir: string;
  sessionHours: number;
  /** A hash from config web.passwordHash or FACEGATE_ADMIN_PASSWORD_HASH: wins over auth.json. */
  fixedPasswordHash?: string;
}

export class AuthStore {
  private data: AuthFile = { passwordHash: null, tokens: [], sessions: [] };
  private readonly file: string;
  private writing: Promise<void> = Promise.resolve();

  private constructor(private readonly opts: AuthOptions) {
    this.file = path.join(opts.dataDir, 'auth.json');
  }

  static async open(opts: AuthOptions): Promise<AuthStore> {
    const s = new AuthStore(opts);
    const d = await readJson<Partial<AuthFile>>(s.file);
    if (d) s.data = { passwordHash: d.passwordHash ?? null, tokens: d.tokens ?? [], sessions: d.sessions ?? [] };
    return s;
  }

  private save(): Promise<void> {
    const snapshot = structuredClone(this.data);
    this.writing = this.writing.catch(() => {}).then(() => writeJsonAtomic(this.file, snapshot));
    return this.writing;
  }

  private get passwordHash(): string | null {
    return this.opts.fixedPasswordHash ?? this.data.passwordHash;
  }

  hasPassword(): boolean {
    return this.passwordHash !== null;
  }

  /** First run only: fails once a password exists. */
  async setInitialPassword(password: string): Promise<void> {
    if (this.hasPassword()) throw new FacegateError('password_set', 'The admin password is already set.');
    if (typeof password !== 'string' || password.length < MIN_PASSWORD_LENGTH)
      throw new FacegateError('weak_password', `The password needs at least ${MIN_PASSWORD_LENGTH} characters.`);
    this.data.passwordHash = await hashPassword(password);
    await this.save();
  }

  async checkPassword(password: string): Promise<boolean> {
    const h = this.passwordHash;
    if (!h || typeof password !== 'string') return false;
    return verifyPassword(password, h);
  }

  /** A new session: the id goes into the cookie, only its hash is stored. */
  async createSession(): Promise<{ id: string; session: Session }> {
    const id = randomBytes(32).toString('base64url');
    const session = { csrf: randomBytes(32).toString('base64url'), expires: new Date(Date.now() + this.opts.sessionHours * 3600_000).toISOString() };
    const now = Date.now();
    this.data.sessions = this.data.sessions.filter((s) => Date.parse(s.expires) > now);
    this.data.sessions.push({ hash: sha256(id), ...session });
    await this.save();
    return { id, session };
  }

  session(id: string | undefined): Session | null {
    if (!id || id.length > 100) return null;
    const h = sha256(id);
    const s = this.data.sessions.find((x) => x.hash === h);
    if (!s || Date.parse(s.expires) <= Date.now()) return null;
    return { csrf: s.csrf, expires: s.expires };
  }

  async endSession(id: string | undefined): Promise<void> {
    if (!id) return;
    const h = sha256(id);
    this.data.sessions = this.data.sessions.filter((s) => s.hash !== h);
    await this.save();
  }

  tokens(): TokenInfo[] {
    return this.data.tokens.map(({ hash: _h, ...t }) => t);
  }

  /** Returns the token in clear: the only time it is ever shown. */
  async createToken(name: string): Promise<{ token: string; info: TokenInfo }> {
    const token = `fgt_${randomBytes(32).toString('base64url')}`;
    const rec: TokenRecord = { id: randomBytes(8).toString('hex'), name, hash: sha256(token), created: new Date().toISOString(), lastUsed: null };
    this.data.tokens.push(rec);
    await this.save();
    const { hash: _h, ...info } = rec;
    return { token, info };
  }

  async deleteToken(id: string): Promise<boolean> {
    const n = this.data.tokens.length;
    this.data.tokens = this.data.tokens.filter((t) => t.id !== id);
    if (this.data.tokens.length === n) return false;
    await this.save();
    return true;
  }

  /** Checks a bearer token; records its use (saved in the background). */
  checkToken(token: string): TokenInfo | null {
    if (!token || token.length > 200) return null;
    const h = Buffer.from(sha256(token), 'hex');
    const rec = this.data.tokens.find((t) => timingSafeEqual(Buffer.from(t.hash, 'hex'), h));
    if (!rec) return null;
    const last = rec.lastUsed ? Date.parse(rec.lastUsed) : 0;
    rec.lastUsed = new Date().toISOString();
    if (Date.now() - last > 60_000) void this.save().catch(() => {});
    const { hash: _h, ...info } = rec;
    return info;
  }

  /** Waits for pending writes (tests, shutdown). */
  flush(): Promise<void> {
    return this.writing.catch(() => {});
  }
}

/**
 * Admin password (scrypt), API tokens (sha256 only) and sign-in sessions, persisted in <dataDir>/auth.json.
 * Secrets never leave this module in clear except a new token at creation, once.
 *
 * The file is checked against its schema at open: one that cannot be read, parsed or checked is kept aside as
 * auth.json.corrupt-<time> (never deleted) and the appliance starts unclaimed with a new claim code (the safe
 * state: nobody is signed in, the page asks for the code from the log). A full disk refuses what must be kept
 * (a password, a token) with 'storage_full', and keeps sessions in memory for this run.
 */
import { createHash, randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import { readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { FacegateError, isFacegateError } from '../util/errors.js';
import { writeJsonAtomic } from './atomic.js';
import { asideName } from './json-lines.js';
import { isStorageFault, type StorageReporter } from './storage-health.js';

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
  if (![N, r, p].every((n) => Number.isInteger(n) && n! > 0)) return false;
  const salt = Buffer.from(parts[4]!, 'base64');
  const want = Buffer.from(parts[5]!, 'base64');
  if (want.length < 16) return false;
  const got = await scrypt(password, salt, want.length, { N, r, p });
  return timingSafeEqual(got, want);
}

export type TokenScope = 'read' | 'admin';
export const TOKEN_SCOPES: readonly TokenScope[] = ['read', 'admin'];

interface TokenRecord {
  id: string;
  name: string;
  hash: string;
  created: string;
  lastUsed: string | null;
  /** read: GET only; admin: everything, including minting tokens. Old records without one are admin. */
  scope: TokenScope;
  /** ISO time after which the token is refused; null: never. */
  expires: string | null;
}
interface SessionRecord {
  hash: string;
  csrf: string;
  expires: string;
}
interface AuthFile {
  passwordHash: string | null;
  /** One-time code that set-up asks for until a password exists (kept in clear: it is printed in the log). */
  claimCode: string | null;
  tokens: TokenRecord[];
  sessions: SessionRecord[];
}

const iso = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not a time');
/** auth.json as it must be to be trusted (older files lack scope and expires: they are admin tokens without expiry). */
const authFileSchema = z.object({
  passwordHash: z.string().startsWith('scrypt$').nullable().default(null),
  claimCode: z.string().min(1).nullable().default(null),
  tokens: z
    .array(
      z.object({
        id: z.string().min(1),
        name: z.string(),
        hash: z.string().regex(/^[0-9a-f]{64}$/),
        created: iso,
        lastUsed: iso.nullable().default(null),
        scope: z.enum(['read', 'admin']).default('admin'),
        expires: iso.nullable().default(null),
      }),
    )
    .default([]),
  sessions: z.array(z.object({ hash: z.string().regex(/^[0-9a-f]{64}$/), csrf: z.string().min(1), expires: iso })).default([]),
});

export type TokenInfo = Omit<TokenRecord, 'hash'> & { expired: boolean };
export interface Session {
  csrf: string;
  expires: string;
}

export interface AuthOptions {
  dataDir: string;
  sessionHours: number;
  /** A hash from config web.passwordHash or FACEGATE_ADMIN_PASSWORD_HASH: wins over auth.json. */
  fixedPasswordHash?: string;
  /** Where a full disk is reported (default: nowhere; a write that must be kept still fails with 'storage_full'). */
  storage?: Pick<StorageReporter, 'reportWriteFailure' | 'reportWriteOk'>;
}

/** An auth.json that was refused at open: why, and where it is kept. */
export interface RefusedAuthFile {
  file: string;
  keptAs: string | null;
  /** One sentence naming the file, the problem and the fix. */
  message: string;
}

/** Crockford base32 without look-alikes: a code read from a log or a console can be typed back. */
const CLAIM_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** A new claim code: 12 random characters (60 bits) in groups of four, e.g. 7KQM-2HXD-9TPR. */
export function newClaimCode(): string {
  const b = randomBytes(12);
  const chars = Array.from(b, (x) => CLAIM_ALPHABET[x & 31]);
  return [0, 4, 8].map((i) => chars.slice(i, i + 4).join('')).join('-');
}

/** A typed claim code in the stored form: upper case, no spaces or dashes, O→0 and I/L→1. */
const canonicalClaim = (s: string) => s.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');

/** The parsed JSON, or undefined when the text is not JSON. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

const info = ({ hash: _h, ...t }: TokenRecord): TokenInfo => ({ ...t, expired: t.expires !== null && Date.parse(t.expires) <= Date.now() });

export class AuthStore {
  private data: AuthFile = { passwordHash: null, claimCode: null, tokens: [], sessions: [] };
  private readonly file: string;
  private writing: Promise<void> = Promise.resolve();
  /** Set while a set-up is hashing its password: a second set-up is refused, so exactly one wins. */
  private claiming = false;
  /** Set when open() found auth.json broken and started unclaimed instead (to log). */
  refused: RefusedAuthFile | null = null;

  private constructor(private readonly opts: AuthOptions) {
    this.file = path.join(opts.dataDir, 'auth.json');
  }

  /**
   * Opens <dataDir>/auth.json; while no password exists it makes sure a claim code does (saved at once). A file
   * that is not a valid auth.json is kept aside and the store starts unclaimed (see `refused`).
   */
  static async open(opts: AuthOptions): Promise<AuthStore> {
    const s = new AuthStore(opts);
    const d = await s.readFile();
    if (d) s.data = d;
    if (!s.hasPassword() && !s.data.claimCode) {
      s.data.claimCode = newClaimCode();
      // A broken file that could not be moved aside is never overwritten: the code lives in memory for this run.
      if (s.refused && s.refused.keptAs === null) return s;
      // A full disk: the code still works for this run (it is logged); it is written with the next change.
      await s.save().catch((e: unknown) => {
        if (!isFacegateError(e) || e.code !== 'storage_full') throw e;
      });
    }
    return s;
  }

  /**
   * Starts over without reading the old file (`facegate passwd --reset` on a forgotten password or a broken file):
   * no password, session or token, and a new claim code. A file that is not a valid auth.json is kept aside first.
   */
  static async reset(opts: AuthOptions): Promise<{ claimCode: string; refused: RefusedAuthFile | null }> {
    if (opts.fixedPasswordHash !== undefined)
      throw new FacegateError('password_fixed', 'The password is set in the config (web.passwordHash or FACEGATE_ADMIN_PASSWORD_HASH); remove it there.');
    const s = new AuthStore(opts);
    // Read only to tell a broken file (kept aside) from a good one (replaced): its content is not used.
    let problem: string | null = null;
    try {
      if (!authFileSchema.safeParse(parseJson(await readFile(s.file, 'utf8'))).success) problem = 'it is not a valid auth.json';
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') problem = `it cannot be read (${code ?? (e as Error).message})`;
    }
    if (problem) await s.refuse(problem);
    s.data = { passwordHash: null, claimCode: newClaimCode(), tokens: [], sessions: [] };
    await s.save();
    return { claimCode: s.data.claimCode!, refused: s.refused };
  }

  /** The file's content, or null when there is none or it was refused (kept aside). */
  private async readFile(): Promise<AuthFile | null> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return null;
      await this.refuse(`it cannot be read (${code ?? (e as Error).message})`);
      return null;
    }
    const json = parseJson(text);
    if (json === undefined) {
      await this.refuse('it is not JSON (cut short or overwritten)');
      return null;
    }
    const checked = authFileSchema.safeParse(json);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      await this.refuse(`${issue?.path.join('.') || 'its content'}: ${issue?.message ?? 'not valid'}`);
      return null;
    }
    return checked.data;
  }

  /** Keeps a broken file aside (renamed, never deleted) and says so in `refused`. */
  private async refuse(problem: string): Promise<void> {
    let keptAs: string | null = asideName(this.file);
    try {
      await rename(this.file, keptAs);
    } catch {
      keptAs = null;
    }
    const kept = keptAs ? `it is kept as ${path.basename(keptAs)}` : 'it could not be moved aside';
    this.refused = {
      file: this.file,
      keptAs,
      message: `${this.file} was refused (${problem}); ${kept}, and the appliance starts unclaimed: enter the new claim code from the log on the admin page to choose a password (API tokens must be made again).`,
    };
  }

  /** Writes the state; a full disk rejects with 'storage_full' (reported), other errors as they are. */
  private save(): Promise<void> {
    const snapshot = structuredClone(this.data);
    const storage = this.opts.storage;
    this.writing = this.writing
      .catch(() => {})
      .then(async () => {
        try {
          await writeJsonAtomic(this.file, snapshot);
        } catch (e) {
          if (!isStorageFault(e)) throw e;
          storage?.reportWriteFailure(this.file, e);
          throw new FacegateError(
            'storage_full',
            `The disk is full or failing (${(e as NodeJS.ErrnoException).code}): ${this.file} could not be written; free space and try again.`,
            {
              cause: e,
            },
          );
        }
        storage?.reportWriteOk(this.file);
      });
    return this.writing;
  }

  /** Applies a change that must be kept (password, tokens, ending sessions): undone when it cannot be written. */
  private async commit(change: () => void): Promise<void> {
    const before = structuredClone(this.data);
    change();
    try {
      await this.save();
    } catch (e) {
      this.data = before;
      throw e;
    }
  }

  /** save() for what may live in memory only for this run (sessions, token use): a full disk is reported, not thrown. */
  private saveLightly(): Promise<void> {
    return this.save().catch((e: unknown) => {
      if (!isFacegateError(e) || e.code !== 'storage_full') throw e;
    });
  }

  private get passwordHash(): string | null {
    return this.opts.fixedPasswordHash ?? this.data.passwordHash;
  }

  hasPassword(): boolean {
    return this.passwordHash !== null;
  }

  /** True when the password comes from the config or environment (it cannot be changed from the page). */
  passwordIsFixed(): boolean {
    return this.opts.fixedPasswordHash !== undefined;
  }

  /** The claim code while set-up is pending (to print in the log and the install output); null once claimed. */
  pendingClaimCode(): string | null {
    return this.hasPassword() ? null : this.data.claimCode;
  }

  private static checkNewPassword(password: unknown): string {
    if (typeof password !== 'string' || password.length < MIN_PASSWORD_LENGTH)
      throw new FacegateError('weak_password', `The password needs at least ${MIN_PASSWORD_LENGTH} characters.`);
    if (password.length > 1024) throw new FacegateError('weak_password', 'The password is too long (at most 1024 characters).');
    return password;
  }

  /** Sets the first password; with `claimCode` (the web set-up) the code must match. Exactly one concurrent call wins. */
  async setInitialPassword(password: string, claimCode?: string): Promise<void> {
    if (this.hasPassword() || this.claiming) throw new FacegateError('password_set', 'The admin password is already set.');
    if (claimCode !== undefined) {
      const want = Buffer.from(canonicalClaim(this.data.claimCode ?? ''));
      const got = Buffer.from(canonicalClaim(String(claimCode)));
      if (want.length === 0 || got.length !== want.length || !timingSafeEqual(got, want))
        throw new FacegateError(
          'bad_claim_code',
          'That claim code is not right; it is printed in the appliance log (journalctl -u facegate) and by install-service.',
        );
    }
    AuthStore.checkNewPassword(password);
    this.claiming = true;
    try {
      const hash = await hashPassword(password);
      await this.commit(() => {
        this.data.passwordHash = hash;
        this.data.claimCode = null;
      });
    } finally {
      this.claiming = false;
    }
  }

  /** Changes the password (the current one must be right) and ends every session. */
  async changePassword(current: string, next: string): Promise<void> {
    if (this.passwordIsFixed())
      throw new FacegateError('password_fixed', 'The password is set in the config (web.passwordHash or FACEGATE_ADMIN_PASSWORD_HASH); change it there.');
    if (!(await this.checkPassword(current))) throw new FacegateError('bad_password', 'The current password is not right.');
    const hash = await hashPassword(AuthStore.checkNewPassword(next));
    await this.commit(() => {
      this.data.passwordHash = hash;
      this.data.sessions = [];
    });
  }

  /** Forgets the password, every session and token, and issues a new claim code (facegate passwd --reset). */
  async resetPassword(): Promise<string> {
    if (this.passwordIsFixed())
      throw new FacegateError('password_fixed', 'The password is set in the config (web.passwordHash or FACEGATE_ADMIN_PASSWORD_HASH); remove it there.');
    await this.commit(() => {
      this.data = { passwordHash: null, claimCode: newClaimCode(), tokens: [], sessions: [] };
    });
    return this.data.claimCode!;
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
    await this.saveLightly();
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
    await this.saveLightly();
  }

  /** Signs out everywhere: every browser session ends (tokens stay). Returns how many ended. */
  async endAllSessions(): Promise<number> {
    const n = this.data.sessions.length;
    await this.commit(() => {
      this.data.sessions = [];
    });
    return n;
  }

  tokens(): TokenInfo[] {
    return this.data.tokens.map(info);
  }

  /** Returns the token in clear: the only time it is ever shown. `days`: lifetime, null for no expiry. */
  async createToken(name: string, opts: { scope?: TokenScope; days?: number | null } = {}): Promise<{ token: string; info: TokenInfo }> {
    const scope = opts.scope ?? 'admin';
    if (!TOKEN_SCOPES.includes(scope)) throw new FacegateError('bad_scope', 'A token scope is "read" or "admin".');
    const days = opts.days ?? null;
    if (days !== null && !(Number.isFinite(days) && days > 0 && days <= 3650))
      throw new FacegateError('bad_expiry', 'A token lasts 1 to 3650 days, or never expires.');
    const token = `fgt_${randomBytes(32).toString('base64url')}`;
    const now = Date.now();
    const rec: TokenRecord = {
      id: randomBytes(8).toString('hex'),
      name,
      hash: sha256(token),
      created: new Date(now).toISOString(),
      lastUsed: null,
      scope,
      expires: days === null ? null : new Date(now + days * 86_400_000).toISOString(),
    };
    await this.commit(() => {
      this.data.tokens.push(rec);
    });
    return { token, info: info(rec) };
  }

  async deleteToken(id: string): Promise<boolean> {
    if (!this.data.tokens.some((t) => t.id === id)) return false;
    await this.commit(() => {
      this.data.tokens = this.data.tokens.filter((t) => t.id !== id);
    });
    return true;
  }

  /** Checks a bearer token (expired ones fail); records its use (saved in the background, at most once a minute). */
  checkToken(token: string): TokenInfo | null {
    if (!token || token.length > 200) return null;
    const h = Buffer.from(sha256(token), 'hex');
    const rec = this.data.tokens.find((t) => timingSafeEqual(Buffer.from(t.hash, 'hex'), h));
    if (!rec) return null;
    if (rec.expires !== null && Date.parse(rec.expires) <= Date.now()) return null;
    const last = rec.lastUsed ? Date.parse(rec.lastUsed) : 0;
    rec.lastUsed = new Date().toISOString();
    if (Date.now() - last > 60_000) void this.save().catch(() => {});
    return info(rec);
  }

  /** Waits for pending writes (tests, shutdown). */
  flush(): Promise<void> {
    return this.writing.catch(() => {});
  }
}

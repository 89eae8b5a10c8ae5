/** The Hono environment shared by the app and its route modules. */
import type { TokenScope } from '../store/auth.js';
import type { AuthKind } from './security.js';

export type AppEnv = { Variables: { authKind: AuthKind; sessionId: string; scope: TokenScope } };

/** The Hono environment shared by the app and its route modules. */
import type { AuthKind } from './security.js';

export type AppEnv = { Variables: { authKind: AuthKind; sessionId: string } };

/**
 * Every JSON API route module, mounted under /api in this order. An admin page's API is one module here
 * (a function of the app's dependencies returning a Hono app) and one line in the list below.
 */
import type { Context } from 'hono';
import { Hono } from 'hono';
import type { AppDeps } from '../ports.js';
import type { AppEnv } from '../env.js';
import type { RequestFacts } from '../origin.js';
import type { Captures } from '../captures.js';
import { sessionRoutes } from './session.js';
import { tokenRoutes } from './tokens.js';
import { peopleRoutes } from './people.js';
import { cameraRoutes } from './cameras.js';
import { snapshotRoutes } from './snapshots.js';
import { eventRoutes } from './events.js';
import { unknownRoutes } from './unknowns.js';
import { storageRoutes } from './storage.js';
import { changeRoutes } from './changes.js';

/** What the web app hands every route module besides AppDeps. */
export interface RouteContext {
  facts: (c: Context) => RequestFacts;
  captures: Captures;
}

export function apiRoutes(deps: AppDeps, ctx: RouteContext): Hono<AppEnv> {
  const api = new Hono<AppEnv>();
  const modules = [
    sessionRoutes(deps, ctx.facts),
    tokenRoutes(deps),
    peopleRoutes(deps, ctx.captures),
    cameraRoutes(deps, ctx.captures),
    snapshotRoutes(deps),
    eventRoutes(deps),
    unknownRoutes(deps),
    storageRoutes(deps),
    changeRoutes(deps),
  ];
  for (const m of modules) api.route('/', m);
  return api;
}

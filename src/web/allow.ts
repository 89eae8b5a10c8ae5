/** 405 for a path the API has but not with this method: the methods it does take, from the mounted routes. */
import type { Hono } from 'hono';

/** `/api/people/:id` → a pattern that matches `/api/people/<one segment>`. */
const pattern = (route: string) => new RegExp(`^${route.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/\\:\w+|:\w+/g, '[^/]+')}$`);

/** A function from a request path to the methods some route takes at it (empty: no such path). */
export function allowedMethods(app: Pick<Hono, 'routes'>): (path: string) => string[] {
  const routes = app.routes.filter((r) => r.method !== 'ALL' && !r.path.includes('*')).map((r) => ({ method: r.method, re: pattern(r.path) }));
  return (path) => {
    const methods = new Set(routes.filter((r) => r.re.test(path)).map((r) => r.method));
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods].sort();
  };
}

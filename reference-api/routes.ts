/**
 * One API instance: the routes under its base path (method and path to a service call), its
 * stats, and its answers encoded by its behaviour.
 */
import { behaviourOf, type Credentials, type Deviation, type Room, type Shared } from './behaviour';
import type { Answer, Delivery, HttpRequest } from './http';
import { createService, type GroupService, type ReferenceApiStats } from './service';

type Route = {
  name: string;
  method: string;
  path: RegExp;
  run: (service: GroupService, request: HttpRequest, match: RegExpExecArray) => Answer | Promise<Answer>;
};

const credentialsOf = (request: HttpRequest): Credentials => ({
  token: request.header('x-auth-token'),
  clientId: request.header('x-client-id'),
});

const ROUTES: Route[] = [
  {
    name: 'create',
    method: 'POST',
    path: /^\/v1\/rooms\/groups$/,
    run: (service, request) => service.create(credentialsOf(request), request.raw),
  },
  {
    name: 'read-by-url',
    method: 'GET',
    path: /^\/v1\/rooms\/group\/([^/]+)$/,
    run: (service, request, m) => service.read(credentialsOf(request), 'url', decodeURIComponent(m[1])),
  },
  {
    name: 'read-by-id',
    method: 'GET',
    path: /^\/v1\/rooms\/(\d+)$/,
    run: (service, request, m) => service.read(credentialsOf(request), 'id', m[1]),
  },
];

const newStats = (): ReferenceApiStats => ({ requests: 0, byRoute: {}, groupsCreated: 0 });

export function count(stats: ReferenceApiStats, route: string): void {
  stats.requests++;
  stats.byRoute[route] = (stats.byRoute[route] ?? 0) + 1;
}

export type Instance = {
  stats: ReferenceApiStats;
  groups: () => Room[];
  /** Answers a request whose path is given relative to the instance's base path. */
  handle: (request: HttpRequest, path: string) => Promise<Delivery>;
};

export function createInstance(deviations: readonly Deviation[], shared: Shared): Instance {
  const behaviour = behaviourOf(deviations, shared);
  const stats = newStats();
  const service = createService(behaviour, stats);
  let requests = 0;

  async function answer(request: HttpRequest, path: string): Promise<Answer> {
    const limited = behaviour.rateLimit(++requests);
    if (limited) {
      count(stats, '429');
      return limited;
    }
    for (const route of ROUTES) {
      const match = request.method === route.method ? route.path.exec(path) : null;
      if (!match) continue;
      count(stats, route.name);
      return route.run(service, request, match);
    }
    count(stats, 'unknown');
    return { status: 404 };
  }

  // A seam that throws is a server error, as an unhandled exception is in a real server.
  const handle = async (request: HttpRequest, path: string) => {
    await readLate(request, behaviour.firstBytesDelayMs());
    return behaviour.respond(await answer(request, path).catch((): Answer => ({ status: 500 })));
  };
  return { stats, groups: service.groups, handle };
}

/** A request is read no sooner than `delayMs` after its first bytes arrived (its last bytes may arrive later still). */
async function readLate(request: HttpRequest, delayMs: number): Promise<void> {
  const wait = request.receivedAt === undefined ? 0 : request.receivedAt + delayMs - performance.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

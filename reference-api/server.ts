/**
 * The reference API host: one identity provider (`/oauth2/...`, shared by all) and API instances,
 * each with its own groups, ids and stats:
 *  - `/quran-reflect/...`: the root instance, made with `options.fault` / `options.variant`;
 *  - `/faithful/quran-reflect/...`, `/fault/<name>/quran-reflect/...`, `/variant/<name>/quran-reflect/...`:
 *    any instance of the catalog (reference-api/faults.ts), made on first use.
 * An access token works for every instance. The behaviour of an instance is the faithful one with
 * the deviations of its fault or variant (behaviour.ts); the factory does not listen.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Deviation } from './behaviour';
import {
  type FaultName,
  faults,
  type RunFaultName,
  type RunVariantName,
  runFaults,
  runVariants,
  type VariantName,
  variants,
} from './faults';
import { type Delivery, encodePlain, type HttpRequest, readRequest, send } from './http';
import { type ClientRegistration, createIdentityProvider, type Grant } from './oauth';
import { count, createInstance, type Instance } from './routes';
import type { ReferenceApiStats } from './service';

export type { Grant } from './oauth';
export type { ReferenceApiStats } from './service';

export const API_BASE_PATH = '/quran-reflect';

export type ReferenceApiOptions = {
  fault?: FaultName | RunFaultName;
  variant?: VariantName | RunVariantName;
  /** OAuth2 clients: id -> secret, or secret and registered redirect URIs. */
  clients?: Record<string, ClientRegistration>;
  signingKey?: string;
  /** Called with every token and authorization code issued, so the secret scan knows what to look for. */
  onTokenIssued?: (token: string) => void;
  /** The user the authorize endpoint logs in (default `user-reference-qa`). */
  user?: string;
  /** What that user answers at the authorize endpoint (default approve). */
  consent?: 'approve' | 'deny';
  /** The issuer its id_tokens name (default its origin with a trailing slash). */
  issuer?: string;
};

/** A name of the catalog, or the faithful API. */
export type InstanceName = 'faithful' | FaultName | VariantName;

const isFault = (name: string): name is FaultName => Object.hasOwn(faults, name);
const isVariant = (name: string): name is VariantName => Object.hasOwn(variants, name);

/** Where an instance of the catalog is served, e.g. `/fault/id-as-string/quran-reflect`. */
export function instanceBasePath(name: InstanceName): string {
  if (name === 'faithful') return `/faithful${API_BASE_PATH}`;
  return `/${isFault(name) ? 'fault' : 'variant'}/${name}${API_BASE_PATH}`;
}

function deviationsOf(name: InstanceName): readonly Deviation[] {
  if (name === 'faithful') return [];
  return isFault(name) ? [faults[name]] : variants[name].deviations;
}

const MOUNTED = /^\/(?:(faithful)|(fault|variant)\/([^/]+))\/quran-reflect(\/.*)$/;

/** The instance a path is for and the path inside it; undefined when it is for none. */
function mountOf(path: string): { name?: InstanceName; rest: string } | undefined {
  if (path.startsWith(`${API_BASE_PATH}/`)) return { rest: path.slice(API_BASE_PATH.length) };
  const m = MOUNTED.exec(path);
  if (!m) return undefined;
  const [, faithful, kind, name, rest] = m;
  if (faithful) return { name: 'faithful', rest };
  if (kind === 'fault' ? isFault(name) : isVariant(name)) return { name: name as InstanceName, rest };
  return undefined;
}

export function createReferenceApi(options: ReferenceApiOptions = {}) {
  const idp = createIdentityProvider(options);
  const shared = { signingKey: idp.signingKey };
  const rootDeviations = [
    ...(options.variant ? { ...variants, ...runVariants }[options.variant].deviations : []),
    ...(options.fault ? [{ ...faults, ...runFaults }[options.fault]] : []),
  ];
  const root = createInstance(rootDeviations, shared);
  const named = new Map<InstanceName, Instance>();
  const instanceOf = (name: InstanceName): Instance => {
    const existing = named.get(name);
    if (existing) return existing;
    const made = createInstance(deviationsOf(name), shared);
    named.set(name, made);
    return made;
  };

  /** The identity provider's requests and unknown paths count in the root's stats. */
  async function dispatch(request: HttpRequest): Promise<Delivery> {
    const oauth = idp.route(request);
    if (oauth) {
      count(root.stats, oauth.name);
      return encodePlain(oauth.answer);
    }
    const mount = mountOf(request.path);
    if (mount) return (mount.name ? instanceOf(mount.name) : root).handle(request, mount.rest);
    count(root.stats, 'unknown');
    return encodePlain({ status: 404 });
  }

  const server = http.createServer((req, res) => {
    const receivedAt = performance.now();
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const answered = Promise.resolve()
        .then(() => dispatch(readRequest(req, Buffer.concat(chunks), receivedAt)))
        .catch(() => encodePlain({ status: 500 }));
      void answered.then((delivery) => send(req, res, delivery));
    });
  });

  return {
    server,
    /** The root instance's stats (also counting the identity provider's requests and unknown paths). */
    stats: root.stats,
    /** What the root instance holds, as a self-test inspects it: every stored group. */
    groups: root.groups,
    /** The stats and groups of an instance of the catalog (made now if it was not yet). */
    instance: (name: InstanceName): { stats: ReferenceApiStats; groups: Instance['groups'] } => {
      const { stats, groups } = instanceOf(name);
      return { stats, groups };
    },
    issueRefreshToken: (grant: Grant) => idp.issueRefreshToken(grant),
    issueAccessToken: (grant: Grant, issuer?: string) => idp.issueAccessToken(grant, issuer),
  };
}

export type ReferenceApi = ReturnType<typeof createReferenceApi>;

/** Listens on a free loopback port; `close` also ends connections that a fault left hanging. */
export async function listen(api: ReferenceApi, port = 0): Promise<{ origin: string; close: () => Promise<void> }> {
  await new Promise<void>((resolve) => api.server.listen(port, '127.0.0.1', resolve));
  const { port: actual } = api.server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${actual}`,
    close: () =>
      new Promise<void>((resolve) => {
        api.server.closeAllConnections();
        api.server.close(() => resolve());
      }),
  };
}

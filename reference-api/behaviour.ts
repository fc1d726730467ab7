/**
 * The reference API's behaviour as a record of named seams, and the faithful one: what the
 * documentation (shared/api/) says, and a plain choice where it is silent.
 *
 * A fault or a variant is a list of deviations, each `{ seam, deviate }`: the deviated seam is
 * `deviate(faithful seam)`, the others stay faithful. Seams that are made of other seams (validate,
 * authenticate, toRoom, readProfile, respond) call them through `self`, the finished record, so a
 * deviation of `limits` also changes what `validate` checks.
 */

import { type Claims, verifyJwt } from '../fixtures/contract/jwt';
import { charCount, LIMITS } from '../fixtures/contract/schemas';
import { type Answer, type Delivery, encode, errorJson, JSON_TYPE } from './http';

export const FIELDS = ['name', 'url', 'description', 'public', 'hideFollowJoinButton'] as const;
type Field = (typeof FIELDS)[number];
export type TextField = 'name' | 'url' | 'description';
const TEXT_FIELDS: readonly TextField[] = ['name', 'url', 'description'];
export const isTextField = (field: string): field is TextField => (TEXT_FIELDS as readonly string[]).includes(field);

/** The create body's documented fields, read and checked. */
type Input = {
  name: string;
  url: string;
  description?: string;
  public?: boolean;
  hideFollowJoinButton?: boolean;
};
export type Body = Readonly<Record<string, unknown>>;
/** A valid create: its documented fields, and the whole body as sent (undocumented fields included). */
export type Sent = { input: Input; body: Body };
type Problem = { field: string; problem: 'type' | 'required' | 'too-long' | 'too-short' | 'unknown' };
export type Checked = Sent | { problem: Problem };
type Parsed = { body: unknown } | { malformed: true };
export type Typed = { value: string | boolean | undefined } | { problem: Problem };

/** What the server owns: nothing in the create body sets these in the faithful behaviour. */
export type ServerOwned = {
  roomType: string;
  isActive: boolean;
  isVerified: boolean;
  postsCount: number;
  membersCount: number;
  /** Unset: the viewer is admin when owner. */
  isAdmin?: boolean;
  isMember: boolean;
};
export type Room = ServerOwned & {
  id: number;
  name: string;
  description?: string;
  url: string;
  isPublic: boolean;
  hideFollowJoinButton: boolean;
  ownerId: string;
  createdAt: Date;
};
export type NewRoom = Omit<Room, 'id'>;
/** What a group is where the create body says nothing. */
type Defaults = ServerOwned & { public: boolean; hideFollowJoinButton: boolean };

export type Credentials = { token?: string; clientId?: string };
type Caller = { user: string } | { status: number };
type AuthRefusal = 'missing' | 'invalid' | 'client' | 'scope';

export interface Store {
  byId(id: number): Room | undefined;
  byUrl(url: string): Room | undefined;
  /** Stores the room under its id, and points its url at it. */
  write(room: Room): void;
  all(): Room[];
}

/** A create the service refused, with what it knew when it refused. */
export type Refusal =
  | { reason: 'unauthenticated'; status: number; raw: Buffer }
  | { reason: 'malformed'; status: number; raw: Buffer; caller: string }
  | { reason: 'invalid'; status: number; body: unknown; problem: Problem; caller: string }
  | { reason: 'duplicate'; status: number; sent: Sent; caller: string };

/** What a seam may use of its instance: its own parsing, checks, store, and the making of a group. */
export type Service = {
  parse: (raw: Buffer) => Parsed;
  check: (body: unknown) => Checked;
  make: (sent: Sent, owner: string) => Room;
  store: Store;
};

export type MaybePromise<T> = T | Promise<T>;
/** `next` of a value that may be a promise, without an await when it is not. */
export const after = <T, U>(value: MaybePromise<T>, next: (v: T) => U): MaybePromise<U> =>
  value instanceof Promise ? value.then(next) : next(value);

type Payload = { contentType: string; text: string };
export type Profile = Record<string, unknown>;

export type Behaviour = {
  // Authentication
  authenticate: (credentials: Credentials, scope: string) => Caller;
  claims: (token: string) => Partial<Claims> | undefined;
  checkClient: (clientId: string | undefined, claims: Partial<Claims>) => boolean;
  authStatus: Readonly<Record<AuthRefusal, number>>;
  rateLimit: (nth: number) => Answer | undefined;
  // The create body
  parseBody: (raw: Buffer) => Parsed;
  validate: (body: unknown) => Checked;
  typed: (field: Field, value: unknown) => Typed;
  length: (text: string) => number;
  limits: Readonly<Record<TextField, { min: number; max: number }>>;
  required: readonly Field[];
  // The create
  onRefused: (refusal: Refusal, service: Service) => MaybePromise<void>;
  checkDuplicate: (input: Input, store: Store) => MaybePromise<Answer | undefined>;
  urlKey: (url: string) => string;
  defaults: Readonly<Defaults>;
  toRoom: (sent: Sent, owner: string) => NewRoom;
  firstId: number;
  persist: (room: Room) => Room | undefined;
  // Answers
  serialise: (room: Room, viewer: string) => Profile;
  createdBody: (data: Profile) => Profile;
  createdAnswer: (body: Profile) => Answer;
  readProfile: (room: Room | undefined, viewer: string, by: 'id' | 'url') => Profile | undefined;
  errorBody: (status: number) => Payload;
  respond: (answer: Answer) => Delivery;
  // The network
  /** How long after a request's first bytes arrive the server reads it (network jitter ahead of the server). */
  firstBytesDelayMs: () => number;
};
export type Seam = keyof Behaviour;

/** What every instance of one host shares: the identity provider's signing key. */
export type Shared = { signingKey: string };

function faithful(self: Behaviour, shared: Shared): Behaviour {
  return {
    authenticate: (credentials, scope) => authenticate(self, credentials, scope),
    claims: (token) => verifyJwt(token, shared.signingKey),
    checkClient: (clientId, claims) => clientId !== undefined && (!claims.client_id || claims.client_id === clientId),
    authStatus: { missing: 401, invalid: 401, client: 401, scope: 403 },
    rateLimit: () => undefined,
    parseBody,
    validate: (body) => validate(self, body),
    typed: (field, value) =>
      value === undefined || typeof value === (isTextField(field) ? 'string' : 'boolean')
        ? { value: value as string | boolean | undefined }
        : { problem: { field, problem: 'type' } },
    length: charCount,
    limits: {
      name: { min: 1, max: LIMITS.name },
      url: { min: 1, max: LIMITS.url },
      description: { min: 0, max: LIMITS.description },
    },
    required: ['name', 'url'],
    onRefused: () => {},
    checkDuplicate: (input, store) => (store.byUrl(input.url) ? { status: 400 } : undefined),
    urlKey: (url) => url,
    defaults: {
      public: false,
      hideFollowJoinButton: false,
      roomType: 'group',
      isActive: true,
      isVerified: false,
      postsCount: 0,
      membersCount: 1,
      isMember: true,
    },
    toRoom: (sent, owner) => toRoom(self, sent, owner),
    firstId: 1,
    persist: (room) => room,
    serialise,
    createdBody: (data) => ({ success: true, data }),
    createdAnswer: (body) => ({ status: 201, body }),
    readProfile: (room, viewer) =>
      room && { ...self.serialise(room, viewer), mutualFollowers: [], mutualFollowersCount: 0 },
    errorBody: (status) => ({ contentType: JSON_TYPE, text: errorJson(status) }),
    respond: (answer) => respond(self, answer),
    firstBytesDelayMs: () => 0,
  };
}

/** The names of the seams, from the faithful record itself. */
export const seamNames = Object.keys(faithful({} as Behaviour, { signingKey: '' })) as Seam[];

type DeviationOf = { [K in Seam]: { seam: K; deviate: (faithful: Behaviour[K]) => Behaviour[K] } };
/** One seam, deviated: `deviate` gets the faithful seam and returns the one to use instead. */
export type Deviation<K extends Seam = Seam> = DeviationOf[K];

export function deviation<K extends Seam>(seam: K, deviate: (faithful: Behaviour[K]) => Behaviour[K]): Deviation<K> {
  return { seam, deviate } as Deviation<K>;
}

/** The faithful record and the one with the deviations applied, in order. */
export function compose(
  deviations: readonly Deviation[],
  shared: Shared,
): { faithful: Behaviour; behaviour: Behaviour } {
  const self = {} as Behaviour;
  const base = faithful(self, shared);
  Object.assign(self, base);
  for (const d of deviations) apply(self, d);
  return { faithful: base, behaviour: self };
}

export const behaviourOf = (deviations: readonly Deviation[], shared: Shared) => compose(deviations, shared).behaviour;

function apply<K extends Seam>(self: Behaviour, d: Deviation<K>): void {
  const { seam, deviate } = d as { seam: K; deviate: (faithful: Behaviour[K]) => Behaviour[K] };
  self[seam] = deviate(self[seam]);
}

// ---- the faithful seams made of other seams ------------------------------------------------------

function authenticate(self: Behaviour, { token, clientId }: Credentials, scope: string): Caller {
  const refuse = (why: AuthRefusal) => ({ status: self.authStatus[why] });
  if (!token) return refuse('missing');
  const claims = self.claims(token);
  if (!claims?.sub) return refuse('invalid');
  if (!self.checkClient(clientId, claims)) return refuse('client');
  const granted = String(claims.scope ?? '').split(' ');
  if (!granted.includes(scope) && !granted.includes(scope.split('.')[0])) return refuse('scope');
  return { user: claims.sub };
}

function parseBody(raw: Buffer): Parsed {
  try {
    return { body: JSON.parse(raw.toString('utf8')) };
  } catch {
    return { malformed: true };
  }
}

export const isRecord = (value: unknown): value is Body =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const refused = (field: string, problem: Problem['problem']) => ({ problem: { field, problem } });

/** Types and maxima field by field, then required fields, then minima: the first problem wins. */
function validate(self: Behaviour, body: unknown): Checked {
  if (!isRecord(body)) return refused('body', 'type');
  const input: Record<string, string | boolean> = {};
  for (const field of FIELDS) {
    const typed = self.typed(field, body[field]);
    if ('problem' in typed) return typed;
    if (typed.value === undefined) continue;
    if (typeof typed.value === 'string' && isTextField(field) && self.length(typed.value) > self.limits[field].max)
      return refused(field, 'too-long');
    input[field] = typed.value;
  }
  const missing = self.required.find((field) => input[field] === undefined);
  if (missing) return refused(missing, 'required');
  const short = TEXT_FIELDS.find((f) => typeof input[f] === 'string' && self.length(input[f]) < self.limits[f].min);
  if (short) return refused(short, 'too-short');
  return { input: input as Input, body };
}

function toRoom(self: Behaviour, { input }: Sent, owner: string): NewRoom {
  const { public: isPublic, hideFollowJoinButton, ...serverOwned } = self.defaults;
  return {
    name: input.name,
    description: input.description,
    url: input.url,
    isPublic: input.public ?? isPublic,
    hideFollowJoinButton: input.hideFollowJoinButton ?? hideFollowJoinButton,
    ownerId: owner,
    createdAt: new Date(),
    ...serverOwned,
  };
}

function serialise(room: Room, viewer: string): Profile {
  const isOwner = room.ownerId === viewer;
  const avatar = (size: string) => `https://static.example.invalid/groups/${room.id}/${size}.png`;
  return {
    id: room.id,
    name: room.name,
    description: room.description ?? '',
    roomType: room.roomType,
    isActive: room.isActive,
    isVerified: room.isVerified,
    isPublic: room.isPublic,
    hideFollowJoinButton: room.hideFollowJoinButton,
    isOwner,
    isAdmin: room.isAdmin ?? isOwner,
    ownerId: room.ownerId,
    postsCount: room.postsCount,
    membersCount: room.membersCount,
    url: room.url,
    avatarUrls: { thumb: avatar('thumb'), original: avatar('original') },
    createdAt: room.createdAt.toISOString(),
    isMember: room.isMember,
    country: 'SA',
  };
}

/** JSON as is; an error without a body gets the error body (429 stays empty: Retry-After says it all). */
function respond(self: Behaviour, answer: Answer): Delivery {
  const delivery = encode(answer);
  if (answer.body !== undefined || answer.cut || answer.status < 400 || answer.status === 429) return delivery;
  const { contentType, text } = self.errorBody(answer.status);
  return { ...delivery, headers: { ...delivery.headers, 'content-type': contentType }, body: Buffer.from(text) };
}

import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import { gzipSync } from 'node:zlib';
import type { ClauseId } from '../fixtures/contract/clauses';
import { decodeJwt } from '../fixtures/contract/jwt';
import {
  after,
  type Behaviour,
  type Body,
  type Checked,
  type Deviation,
  deviation,
  FIELDS,
  isRecord,
  isTextField,
  type NewRoom,
  type Profile,
  type Refusal,
  type Room,
  type Seam,
  type Sent,
  type ServerOwned,
  type Service,
  type TextField,
  type Typed,
} from './behaviour';
import type { FaultName, VariantName } from './catalog-names';

export { type FaultName, faultNames, type VariantName, variantNames } from './catalog-names';

import { JSON_TYPE } from './http';

/**
 * Faults: the faithful behaviour with ONE seam deviated. `clause` is the promise the fault breaks:
 * the fault matrix demands that the suite fails, and that a failing test carries this clause.
 */
export type Fault<K extends Seam = Seam> = Deviation<K> & { clause: ClauseId; description: string };

function fault<K extends Seam>(
  clause: ClauseId,
  description: string,
  seam: K,
  deviate: (faithful: Behaviour[K]) => Behaviour[K],
): Fault<K> {
  return { clause, description, ...deviation(seam, deviate) };
}

/** A fault of the room as answered (201 data and read profiles alike). */
const serialised = (clause: ClauseId, description: string, change: (data: Profile, room: Room) => Profile) =>
  fault(clause, description, 'serialise', (faithful) => (room, viewer) => change(faithful(room, viewer), room));

/** A fault of the group as made: what the create echoes and what is stored. */
const made = (clause: ClauseId, description: string, change: (room: NewRoom, sent: Sent) => Partial<NewRoom>) =>
  fault(clause, description, 'toRoom', (faithful) => (sent, owner) => {
    const room = faithful(sent, owner);
    return { ...room, ...change(room, sent) };
  });

const maximum = (clause: ClauseId, description: string, field: TextField, max: number) =>
  fault(clause, description, 'limits', (faithful) => ({ ...faithful, [field]: { ...faithful[field], max } }));

/** A refused create that stores a group anyway: the one `lenient` reads from the refusal. */
const storedAnyway = (description: string, lenient: (refusal: Refusal, service: Service) => Kept | undefined) =>
  fault(
    'rejected-no-side-effect',
    description,
    'onRefused',
    (faithful) => (refusal, service) =>
      after(faithful(refusal, service), () => {
        const kept = lenient(refusal, service);
        if (kept) service.make(kept.sent, kept.owner);
      }),
  );
type Kept = { sent: Sent; owner: string };
const keptIf = (checked: Checked, owner: string): Kept | undefined =>
  'problem' in checked ? undefined : { sent: checked, owner };

const omit = (data: Profile, ...keys: string[]) =>
  Object.fromEntries(Object.entries(data).filter(([key]) => !keys.includes(key)));
const chars = (text: string, n: number) => [...text].slice(0, n).join('');
/** Name and description through `change`. */
const texts = (room: NewRoom, change: (text: string) => string): Partial<NewRoom> => ({
  name: change(room.name),
  ...(room.description === undefined ? {} : { description: change(room.description) }),
});
const ARABIC_MARKS = /[\u0610-\u061A\u064B-\u065F\u0670\u06D6-\u06DC\u06DF-\u06E8\u06EA-\u06ED]/g;
const ASTRAL = /[\u{10000}-\u{10FFFF}]/gu;
const SERVER_OWNED_TYPES: Record<keyof ServerOwned, 'string' | 'boolean' | 'number'> = {
  roomType: 'string',
  isActive: 'boolean',
  isVerified: 'boolean',
  postsCount: 'number',
  membersCount: 'number',
  isAdmin: 'boolean',
  isMember: 'boolean',
};
const serverOwnedIn = (body: Sent['body']): Partial<ServerOwned> =>
  Object.fromEntries(
    Object.entries(SERVER_OWNED_TYPES).flatMap(([key, type]) => (typeof body[key] === type ? [[key, body[key]]] : [])),
  );
/** How a lenient parser reads a body of lists: the first element of an array body, and of each list field. */
function firstOfLists(body: unknown): unknown {
  const b = Array.isArray(body) ? body[0] : body;
  return isRecord(b) ? Object.fromEntries(Object.entries(b).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v])) : b;
}
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** The create body's optional fields: documented, not required. */
const OPTIONAL: readonly string[] = FIELDS.filter((f) => f !== 'name' && f !== 'url');
/** `null` in an optional field read by `asNull` (a field's value, or undefined: left out); other values as faithful. */
const optionalNull = (asNull: (field: string) => Typed) =>
  deviation(
    'typed',
    (faithful) => (field, value) =>
      value === null && OPTIONAL.includes(field) ? asNull(field) : faithful(field, value),
  );
const leftOut = (): Typed => ({ value: undefined });
/** The body without the fields the documentation does not list (ValidationPipe's `whitelist`). */
const documentedOnly = (body: Body): Body =>
  Object.fromEntries(Object.entries(body).filter(([key]) => (FIELDS as readonly string[]).includes(key)));

/** How validator.js (class-validator's MaxLength) counts: UTF-16 units less surrogate pairs and VS15/VS16. */
const validatorJsLength = (text: string) =>
  text.length -
  (text.match(/[\uD800-\uDBFF][\uDC00-\uDFFF]/g)?.length ?? 0) -
  (text.match(/[\uFE0E\uFE0F]/g)?.length ?? 0);
const LIMITS_OF: Record<TextField, number> = { name: 50, url: 50, description: 200 };
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const hasControlOrLone = (text: string) =>
  new RegExp(LONE_SURROGATE.source).test(text) ||
  Array.from(text).some((c) => {
    const cp = c.codePointAt(0) ?? 0;
    return cp < 0x20 || (cp >= 0x7f && cp < 0xa0);
  });
const segmenter = new Intl.Segmenter('en', { granularity: 'grapheme' });
const graphemeLength = deviation('length', () => (text) => [...segmenter.segment(text)].length);
const controlsRefused = deviation(
  'typed',
  (faithful) => (field, value) =>
    (field === 'name' || field === 'description') && typeof value === 'string' && hasControlOrLone(value)
      ? { problem: { field, problem: 'type' } }
      : faithful(field, value),
);
const nulRemoved = deviation('toRoom', (faithful) => (sent, owner) => {
  const room = faithful(sent, owner);
  return {
    ...room,
    ...texts(room, (text) => text.replaceAll('\u0000', '').replace(LONE_SURROGATE, '\uFFFD')),
  };
});

export const faults = {
  // The 201 body
  'id-as-string': serialised('create-schema', 'data.id is sent as a string ("17")', (data, room) => ({
    ...data,
    id: String(room.id),
  })),
  'missing-room-type': serialised('create-schema', 'data.roomType is left out', (data) => omit(data, 'roomType')),
  'members-count-string': serialised('create-schema', 'data.membersCount is sent as a string', (data) => ({
    ...data,
    membersCount: String(data.membersCount),
  })),
  'owner-id-number': serialised('create-schema', 'data.ownerId is sent as a number', (data) => ({
    ...data,
    ownerId: 4242,
  })),
  'avatar-urls-missing': serialised('create-schema', 'data.avatarUrls is left out', (data) => omit(data, 'avatarUrls')),
  'avatar-thumb-null': serialised('create-schema', 'data.avatarUrls.thumb is null', (data) => ({
    ...data,
    avatarUrls: { ...(data.avatarUrls as object), thumb: null },
  })),
  'created-at-not-date': serialised('create-schema', 'data.createdAt is "28/11/2026 10:00", not RFC 3339', (data) => ({
    ...data,
    createdAt: '28/11/2026 10:00',
  })),
  'is-member-string': serialised('create-schema', 'optional data.isMember is sent as the string "true"', (data) => ({
    ...data,
    isMember: String(data.isMember),
  })),
  'data-unwrapped': fault(
    'create-schema',
    'the room is sent at the top level, without { success, data }',
    'createdBody',
    () => (data) => data,
  ),
  'success-false': fault('create-success', 'success is false on a 201', 'createdBody', (faithful) => (data) => ({
    ...faithful(data),
    success: false,
  })),
  'description-null-when-omitted': serialised(
    'create-without-description',
    'a group created without description answers description: null',
    (data, room) => (room.description === undefined ? { ...data, description: null } : data),
  ),
  // Values that come back different from what was sent
  'public-ignored': made('create-echo', 'public is ignored: every group is public', () => ({ isPublic: true })),
  'hide-button-inverted': made('create-echo', 'hideFollowJoinButton is stored inverted', (room) => ({
    hideFollowJoinButton: !room.hideFollowJoinButton,
  })),
  'booleans-swapped': made('create-echo', 'public and hideFollowJoinButton are swapped', (room) => ({
    isPublic: room.hideFollowJoinButton,
    hideFollowJoinButton: room.isPublic,
  })),
  'description-dropped': made('create-echo', 'the description is stored as ""', () => ({ description: '' })),
  'url-suffixed': made('create-echo', 'the url is stored with a "-1" suffix', (room) => ({ url: `${room.url}-1` })),
  'non-ascii-mangled': made('create-echo', 'non-ASCII characters of the name are replaced by "?"', (room) => ({
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the ASCII range starts at NUL
    name: room.name.replace(/[^\x00-\x7f]/g, '?'),
  })),
  'name-truncated-40': made('limits-max-accepted', 'names are silently cut to 40 characters', (room) => ({
    name: chars(room.name, 40),
  })),
  'diacritics-stripped': made(
    'create-text-intact',
    'Arabic combining marks are removed from name and description',
    (room) => texts(room, (text) => text.replace(ARABIC_MARKS, '')),
  ),
  'astral-replaced': made(
    'create-text-intact',
    'characters outside the BMP (emoji) in name and description become U+FFFD, as in a 3-byte UTF-8 column',
    (room) => texts(room, (text) => text.replace(ASTRAL, '\uFFFD')),
  ),
  // Ownership and what the server owns
  'owner-id-other-user': made('create-owner', 'ownerId is another user', () => ({ ownerId: 'user-somebody-else' })),
  'is-owner-false': serialised('create-owner', 'isOwner is false for the creator', (data) => ({
    ...data,
    isOwner: false,
  })),
  'mass-assignment-owner': made(
    'server-owned-fields',
    "a body's ownerId is taken as the group's owner",
    (_, { body }) => (typeof body.ownerId === 'string' ? { ownerId: body.ownerId } : {}),
  ),
  'mass-assignment-flags': made(
    'server-owned-fields',
    "a body's isVerified, isActive, roomType, postsCount, membersCount, isAdmin, isMember are taken as the group's",
    (_, { body }) => serverOwnedIn(body),
  ),
  // Limits
  'name-limit-49': maximum('limits-max-accepted', 'names of 50 characters are rejected (limit 49)', 'name', 49),
  'name-limit-51': maximum('limits-over-rejected', 'names of 51 characters are accepted (limit 51)', 'name', 51),
  'url-limit-49': maximum('limits-max-accepted', 'urls of 50 characters are rejected (limit 49)', 'url', 49),
  'url-limit-51': maximum('limits-over-rejected', 'urls of 51 characters are accepted (limit 51)', 'url', 51),
  'description-limit-199': maximum(
    'limits-max-accepted',
    'descriptions of 200 characters are rejected',
    'description',
    199,
  ),
  'description-limit-201': maximum(
    'limits-over-rejected',
    'descriptions of 201 characters are accepted',
    'description',
    201,
  ),
  'limits-in-bytes': fault(
    'limits-max-accepted',
    'limits are counted in UTF-8 bytes, not characters',
    'length',
    () => (text) => Buffer.byteLength(text),
  ),
  'limits-not-enforced': fault('limits-over-rejected', 'no maximum length is enforced', 'limits', (faithful) => ({
    name: { ...faithful.name, max: Infinity },
    url: { ...faithful.url, max: Infinity },
    description: { ...faithful.description, max: Infinity },
  })),
  'over-limit-500': fault(
    'limits-over-rejected',
    'an over-long name crashes the server (500)',
    'validate',
    (faithful) => (body) => {
      const checked = faithful(body);
      if ('problem' in checked && checked.problem.field === 'name' && checked.problem.problem === 'too-long')
        throw new RangeError('value too long for column "name"');
      return checked;
    },
  ),
  // Required and optional fields, types, malformed bodies
  'empty-name-accepted': fault('validation-required', 'an empty name is accepted', 'limits', (faithful) => ({
    ...faithful,
    name: { ...faithful.name, min: 0 },
  })),
  'missing-url-accepted': fault(
    'validation-required',
    'a missing url is generated instead of rejected',
    'validate',
    (faithful) => (body) => {
      const generated = `group-${randomBytes(4).toString('hex')}`;
      return faithful(isRecord(body) && body.url === undefined ? { ...body, url: generated } : body);
    },
  ),
  'optional-fields-required': fault(
    'create-optional-omitted',
    'a create without public or hideFollowJoinButton is refused',
    'required',
    (faithful) => [...faithful, 'public', 'hideFollowJoinButton'],
  ),
  'wrong-types-coerced': fault(
    'validation-types',
    'public: "yes" and similar are coerced and accepted',
    'typed',
    (faithful) => (field, value) => {
      const typed = faithful(field, value);
      if (!('problem' in typed)) return typed;
      if (!isTextField(field)) return { value: value === 'true' || value === 'yes' || value === 1 };
      return typeof value === 'number' ? { value: String(value) } : typed;
    },
  ),
  'wrong-types-500': fault(
    'validation-types',
    'a name that is not a string crashes the server (500)',
    'typed',
    (faithful) => (field, value) => {
      const typed = faithful(field, value);
      // The crash of a server that trusts its input: a TypeError on anything but a string.
      if (field === 'name' && 'problem' in typed) (value as string).trim();
      return typed;
    },
  ),
  'malformed-json-500': fault(
    'validation-malformed',
    'a body that is not JSON crashes the server (500)',
    'parseBody',
    () => (raw) => ({ body: JSON.parse(raw.toString('utf8')) }),
  ),
  // Duplicates
  'duplicate-url-accepted': fault(
    'duplicate-url',
    'a taken url is accepted: two groups share it',
    'checkDuplicate',
    () => () => undefined,
  ),
  'duplicate-url-409': fault(
    'duplicate-url',
    'a taken url answers 409 instead of the documented 400',
    'checkDuplicate',
    (faithful) => (input, store) => after(faithful(input, store), (taken) => taken && { ...taken, status: 409 }),
  ),
  'duplicate-overwrites': fault(
    'duplicate-url',
    'a taken url answers 400 but overwrites the first group',
    'checkDuplicate',
    (faithful) => (input, store) =>
      after(faithful(input, store), (taken) => {
        const first = store.byUrl(input.url);
        if (taken && first) store.write({ ...first, name: input.name, description: input.description });
        return taken;
      }),
  ),
  // The gap is wide enough that three creates sent at once still overlap on a loaded machine.
  'duplicate-race': fault(
    'duplicate-url-concurrent',
    'the url check and the insert are 250 ms apart: concurrent creates for one url all succeed',
    'checkDuplicate',
    (faithful) => async (input, store) => {
      const taken = await faithful(input, store);
      await sleep(250);
      return taken;
    },
  ),
  // Authentication
  'auth-skipped': fault('auth-missing', 'create checks no token at all', 'authenticate', () => () => ({
    user: 'anonymous',
  })),
  'auth-missing-403': fault('auth-missing', 'a missing token answers 403 instead of 401', 'authStatus', (faithful) => ({
    ...faithful,
    missing: 403,
  })),
  'auth-presence-only': fault(
    'auth-invalid',
    'any non-empty token is accepted',
    'claims',
    () => (token) => decodeJwt(token) ?? { sub: 'anonymous', scope: 'room' },
  ),
  'auth-signature-unchecked': fault(
    'auth-invalid',
    'JWTs are decoded but their signature is not checked',
    'claims',
    () => decodeJwt,
  ),
  'auth-invalid-400': fault(
    'auth-invalid',
    'an invalid token answers 400 instead of 401',
    'authStatus',
    (faithful) => ({ ...faithful, invalid: 400 }),
  ),
  'valid-tokens-refused': fault(
    'create-201',
    'every token is refused with 401, though its issuer calls it active',
    'authenticate',
    (faithful) => (credentials, scope) => (credentials.token ? { status: 401 } : faithful(credentials, scope)),
  ),
  'unauthenticated-create-404': fault(
    'auth-missing',
    'a create without a token answers 404 (as a wrong base URL would)',
    'authenticate',
    (faithful) => (credentials, scope) =>
      !credentials.token && scope === 'room.create' ? { status: 404 } : faithful(credentials, scope),
  ),
  'auth-client-id-unchecked': fault(
    'auth-client-id',
    'x-client-id is not required',
    'checkClient',
    (faithful) => (clientId, claims) => clientId === undefined || faithful(clientId, claims),
  ),
  // Side effects of rejected requests
  'rejected-still-stored': storedAnyway(
    'an over-long description answers 400 but the group is stored',
    (refusal, service) =>
      refusal.reason === 'invalid' && refusal.problem.field === 'description' && isRecord(refusal.body)
        ? keptIf(service.check({ ...refusal.body, description: undefined }), refusal.caller)
        : undefined,
  ),
  'refused-shape-stored': storedAnyway(
    'a JSON array body, or a url given as a list, answers 400 but is stored as a lenient parser reads it ' +
      '(first elements)',
    (refusal, service) =>
      refusal.reason === 'invalid' ? keptIf(service.check(firstOfLists(refusal.body)), refusal.caller) : undefined,
  ),
  'unauthorized-still-stored': storedAnyway(
    'a create with an invalid token answers 401 but the group is stored',
    (refusal, service) => {
      if (refusal.reason !== 'unauthenticated') return undefined;
      const parsed = service.parse(refusal.raw);
      return 'body' in parsed ? keptIf(service.check(parsed.body), 'anonymous') : undefined;
    },
  ),
  // Persistence and read after write
  'not-persisted': fault(
    'read-by-id',
    'the create answers 201 but nothing is stored',
    'persist',
    () => () => undefined,
  ),
  'read-by-url-404': fault(
    'read-by-url',
    'GET by url never finds a group',
    'readProfile',
    (faithful) => (room, viewer, by) => faithful(by === 'url' ? undefined : room, viewer, by),
  ),
  'read-stale-name': fault(
    'read-by-id',
    'the stored name is cut to 30 characters; the create echo is not',
    'persist',
    (faithful) => (room) => {
      const written = faithful(room);
      return written && { ...written, name: chars(written.name, 30) };
    },
  ),
  'read-wrapped': fault(
    'read-by-id',
    'GET by id wraps the profile in { success, data }',
    'readProfile',
    (faithful) => (room, viewer, by) => {
      const profile = faithful(room, viewer, by);
      return profile && by === 'id' ? { success: true, data: profile } : profile;
    },
  ),
  'flags-stored-as-defaults': fault(
    'read-by-id',
    'the 201 echoes the flags as sent, but every group is stored public with the button shown',
    'persist',
    (faithful) => (room) => {
      const written = faithful(room);
      return written && { ...written, isPublic: true, hideFollowJoinButton: false };
    },
  ),
  'read-public-flipped': fault(
    'read-by-url',
    'GET by url reports isPublic inverted',
    'readProfile',
    (faithful) => (room, viewer, by) => {
      const profile = faithful(room, viewer, by);
      return profile && by === 'url' ? { ...profile, isPublic: !profile.isPublic } : profile;
    },
  ),
  // Transport
  'create-200': fault('create-201', 'a create answers 200 instead of 201', 'createdAnswer', (faithful) => (body) => ({
    ...faithful(body),
    status: 200,
  })),
  'content-type-text': fault('create-201', 'the 201 is sent as text/plain', 'createdAnswer', (faithful) => (body) => ({
    ...faithful(body),
    headers: { 'content-type': 'text/plain; charset=utf-8' },
  })),
  'create-hangs': fault('create-201', 'a create never gets an answer', 'createdAnswer', () => () => ({
    status: 0,
    cut: 'hang',
  })),
  'create-drops-connection': fault(
    'create-201',
    'a create drops the connection without answering',
    'createdAnswer',
    () => () => ({ status: 0, cut: 'drop' }),
  ),
  // null in optional fields: refused (the faithful behaviour) or taken as left out, nothing else
  'optional-null-500': fault(
    'optional-null',
    'null in an optional field crashes the server (500)',
    'typed',
    optionalNull(() => {
      throw new TypeError("Cannot read properties of null (reading 'length')");
    }).deviate,
  ),
  'optional-null-as-text': fault(
    'optional-null',
    'description: null is stored as the text "null" (the flags are taken as left out)',
    'typed',
    optionalNull((field) => (field === 'description' ? { value: String(null) } : leftOut())).deviate,
  ),
  'optional-null-public-true': fault(
    'optional-null',
    'public: null makes a public group, where leaving public out makes a private one',
    'typed',
    optionalNull((field) => (field === 'public' ? { value: true } : leftOut())).deviate,
  ),
  // Sharper probes (races in a realistic window)
  'duplicate-race-2ms': fault(
    'duplicate-url-concurrent',
    'the url check (SELECT) and the insert are about 2 ms apart: creates for one url landing within it all succeed',
    'checkDuplicate',
    (faithful) => async (input, store) => {
      const taken = await faithful(input, store);
      await sleep(2);
      return taken;
    },
  ),
  // Sharper probes (the texts people type)
  'nfkc-normalised': made(
    'create-text-intact',
    'name and description are stored in NFKC: the honorific ligatures become other letters',
    (room) => texts(room, (text) => text.normalize('NFKC')),
  ),
  'format-marks-dropped': made(
    'create-text-intact',
    'format characters (direction marks, the zero-width non-joiner and joiner) are removed from name and description',
    (room) => texts(room, (text) => text.replace(/\p{Cf}/gu, '')),
  ),
  // Sharper probes (no server error for a text)
  'varchar-code-points-500': fault(
    'text-no-server-error',
    'the validator counts like class-validator (variation selectors and surrogate pairs not counted), the column like ' +
      'Postgres (code points): a name of "❤️" it accepted overflows the column, 500',
    'validate',
    (faithful) => (body) => {
      const checked = faithful(body);
      if (!('problem' in checked) || checked.problem.problem !== 'too-long' || !isRecord(body)) return checked;
      const text = body[checked.problem.field];
      if (typeof text === 'string' && validatorJsLength(text) <= LIMITS_OF[checked.problem.field as TextField])
        throw new RangeError(
          `value too long for type character varying(${LIMITS_OF[checked.problem.field as TextField]})`,
        );
      return checked;
    },
  ),
  'nul-500': fault(
    'text-no-server-error',
    'a name or description with U+0000 is accepted, and the store fails on it (Postgres: invalid byte sequence 0x00), 500',
    'persist',
    (faithful) => (room) => {
      if (`${room.name}${room.description ?? ''}`.includes('\u0000'))
        throw new Error('invalid byte sequence for encoding "UTF8": 0x00');
      return faithful(room);
    },
  ),
  'creates-never-answer': fault(
    'create-201',
    'no create request gets an answer, valid or not (a stuck queue); reads answer',
    'answersCreate',
    () => () => false,
  ),
} satisfies Record<FaultName, Fault>;

/**
 * Faithful variants: servers that honour the documentation but differ from the reference where it
 * is silent, each by one or more deviations. The suite must pass against every one of them.
 */
export type Variant = { description: string; deviations: readonly Deviation[] };
const variant = (description: string, ...deviations: Deviation[]): Variant => ({ description, deviations });

const withCreatedAt = (at: (date: Date) => string) =>
  deviation('serialise', (faithful) => (room, viewer) => ({
    ...faithful(room, viewer),
    createdAt: at(room.createdAt),
  }));

function offsetDateTime(d: Date): string {
  const shifted = new Date(d.getTime() + 3 * 3600_000).toISOString().slice(0, 19);
  return `${shifted}+03:00`;
}

export const variants = {
  'extra-fields': variant(
    'undocumented fields in every body (top level, data, profile)',
    deviation('serialise', (faithful) => (room, viewer) => ({
      ...faithful(room, viewer),
      moderation: { state: 'pending' },
      tags: ['x'],
      language: 'ar',
    })),
    deviation('createdBody', (faithful) => (data) => ({ ...faithful(data), requestId: randomUUID() })),
    deviation('readProfile', (faithful) => (room, viewer, by) => {
      const profile = faithful(room, viewer, by);
      return profile && { ...profile, privateToken: 'tok' };
    }),
  ),
  'optional-omitted': variant(
    'every optional field left out (url, subdomain, country, createdAt, isMember, avatar urls)',
    deviation('serialise', (faithful) => (room, viewer) => ({
      ...omit(faithful(room, viewer), 'url', 'subdomain', 'country', 'createdAt', 'isMember'),
      avatarUrls: {},
    })),
  ),
  'other-error-bodies': variant(
    'errors answered as text/plain or with an empty body instead of { message, type, success }',
    deviation('errorBody', () => (status) => ({
      contentType: 'text/plain',
      text: status === 401 ? '' : `${status} ${http.STATUS_CODES[status]}`,
    })),
  ),
  'datetime-offset': variant('createdAt with a +03:00 offset and no fractional seconds', withCreatedAt(offsetDateTime)),
  'datetime-lowercase': variant(
    'createdAt with a lowercase "t" and "z" (RFC 3339, section 5.6, allows them)',
    withCreatedAt((date) => date.toISOString().toLowerCase()),
  ),
  'other-defaults': variant(
    'other values where the documentation is silent (public, roomType, counts, isActive, ...)',
    deviation('defaults', (faithful) => ({
      ...faithful,
      public: true,
      roomType: 'community',
      isActive: false,
      isVerified: true,
      isAdmin: false,
      postsCount: 3,
      membersCount: 0,
    })),
  ),
  'lowercased-urls': variant(
    'urls stored lowercased and looked up case-insensitively',
    deviation('urlKey', () => (url) => url.toLowerCase()),
    deviation('toRoom', (faithful) => (sent, owner) => {
      const room = faithful(sent, owner);
      return { ...room, url: room.url.toLowerCase() };
    }),
  ),
  slow: variant(
    'every answer 300 ms late',
    deviation('respond', (faithful) => (answer) => ({ ...faithful(answer), delayMs: 300 })),
  ),
  // Every 20th, not every 5th: retries that all wait the same second come back together, and a
  // request could keep drawing the limited turn (about 1 in 600 with 5, never seen with 20).
  'rate-limited': variant(
    'every 20th request answered 429 with Retry-After: 1',
    deviation(
      'rateLimit',
      () => (nth) => (nth % 20 === 0 ? { status: 429, headers: { 'retry-after': '1' } } : undefined),
    ),
  ),
  'large-ids': variant(
    'ids near Number.MAX_SAFE_INTEGER',
    deviation('firstId', () => Number.MAX_SAFE_INTEGER - 100_000),
  ),
  gzip: variant(
    'bodies sent gzip-compressed',
    deviation('respond', (faithful) => (answer) => {
      const delivery = faithful(answer);
      if (!delivery.body) return delivery;
      return {
        ...delivery,
        body: gzipSync(delivery.body),
        headers: { ...delivery.headers, 'content-encoding': 'gzip' },
      };
    }),
  ),
  'unknown-fields-refused': variant(
    'a body with any field besides the five documented ones is refused with 400',
    deviation('validate', (faithful) => (body) => {
      const documented: readonly string[] = FIELDS;
      const unknown = isRecord(body) ? Object.keys(body).find((key) => !documented.includes(key)) : undefined;
      return unknown ? { problem: { field: unknown, problem: 'unknown' } } : faithful(body);
    }),
  ),
  'omitted-flags-true': variant(
    'an omitted public or hideFollowJoinButton is stored as true',
    deviation('defaults', (faithful) => ({ ...faithful, public: true, hideFollowJoinButton: true })),
  ),
  'limits-utf16': variant(
    'lengths counted in UTF-16 code units (JavaScript string length), not code points',
    deviation('length', () => (text) => text.length),
  ),
  'nfc-normalised': variant(
    'name and description stored and answered in Unicode NFC',
    deviation('toRoom', (faithful) => (sent, owner) => {
      const room = faithful(sent, owner);
      return { ...room, ...texts(room, (text) => text.normalize('NFC')) };
    }),
  ),
  // What a NestJS API does with its defaults (docs/api-facts.md).
  'nestjs-defaults': variant(
    "NestJS and class-validator's defaults: null in an optional field taken as left out (@IsOptional), unknown " +
      "fields stripped (whitelist), a bare JSON scalar refused by the parser (strict), the framework's error " +
      'bodies; the button hidden and other server-owned values by default',
    optionalNull(leftOut),
    deviation('validate', (faithful) => (body) => faithful(isRecord(body) ? documentedOnly(body) : body)),
    deviation('parseBody', (faithful) => (raw) => {
      const parsed = faithful(raw);
      return 'body' in parsed && (typeof parsed.body !== 'object' || parsed.body === null)
        ? { malformed: true }
        : parsed;
    }),
    deviation('errorBody', () => (status) => ({ contentType: JSON_TYPE, text: JSON.stringify(nestError(status)) })),
    deviation('defaults', (faithful) => ({
      ...faithful,
      hideFollowJoinButton: true,
      roomType: 'GROUP',
      isMember: false,
      membersCount: 0,
    })),
  ),
  'optional-null-absent-public-by-default': variant(
    'null in an optional field taken as left out, and a group is public unless the body says otherwise',
    optionalNull(leftOut),
    deviation('defaults', (faithful) => ({ ...faithful, public: true })),
  ),
  'network-jitter': variant(
    "each request read 0-20 ms (random) after its first bytes arrive, as jitter on the network's path would",
    deviation('firstBytesDelayMs', () => () => Math.random() * 20),
  ),
  'controls-refused': variant(
    'a name or description with a control character or a lone surrogate is refused with 400',
    controlsRefused,
  ),
  'most-tolerant': variant(
    'every tolerance at once: lengths in grapheme clusters (a "❤️" counts once), U+0000 removed and lone surrogates ' +
      'stored as U+FFFD, null in an optional field taken as left out, NFC, extra fields, unknown fields refused',
    graphemeLength,
    nulRemoved,
    optionalNull(leftOut),
    deviation('toRoom', (faithful) => (sent, owner) => {
      const room = faithful(sent, owner);
      return { ...room, ...texts(room, (text) => text.normalize('NFC')) };
    }),
    deviation('serialise', (faithful) => (room, viewer) => ({ ...faithful(room, viewer), language: 'ar' })),
    deviation('validate', (faithful) => (body) => {
      const documented: readonly string[] = FIELDS;
      const unknown = isRecord(body) ? Object.keys(body).find((key) => !documented.includes(key)) : undefined;
      return unknown ? { problem: { field: unknown, problem: 'unknown' } } : faithful(body);
    }),
  ),
} satisfies Record<VariantName, Variant>;

/** NestJS's HttpException bodies: a ValidationPipe 400 lists its messages, other statuses say their name. */
function nestError(status: number) {
  const name = http.STATUS_CODES[status] ?? 'Error';
  if (status === 400) return { statusCode: 400, message: ['the problems of the body, one a line'], error: name };
  return status === 401 ? { statusCode: 401, message: name } : { statusCode: status, message: name, error: name };
}

/**
 * Faults a self-test serves (as `fault`) that the matrix cannot judge: its project for a clause runs only that
 * clause's tests, and the create-201 test sends one create.
 */
export const runFaults = {
  'creates-hang-after-first': fault(
    'create-201',
    'the first create is answered; every later create request gets no answer (reads answer)',
    'answersCreate',
    () => (nth) => nth === 1,
  ),
} satisfies Record<string, Fault>;
export type RunFaultName = keyof typeof runFaults;

/**
 * Variants a self-test serves (as `variant`) and the matrix leaves out: the limited server's 429s cost the matrix's
 * four workers seconds of Retry-After, and selfcheck/flow.spec.ts already proves a whole run GO against it, with
 * what only it can count (answers 429, requests in flight).
 */
export const runVariants = {
  'in-flight-limited': variant(
    'at most 4 requests in flight (each answered 50 ms late); beyond them, 429 with Retry-After: 1',
    deviation('respond', (faithful) => (answer) => ({ ...faithful(answer), delayMs: 50 })),
    deviation(
      'rateLimit',
      () => (_nth, inFlight) => (inFlight > 4 ? { status: 429, headers: { 'retry-after': '1' } } : undefined),
    ),
  ),
} satisfies Record<string, Variant>;
export type RunVariantName = keyof typeof runVariants;

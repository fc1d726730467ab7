import type { ClauseId } from '../fixtures/clauses';

/**
 * Faults: the documented behaviour plus ONE deviation, each read at exactly one place in
 * server.ts (selfcheck/catalog.spec.ts counts). `clause` is the promise the fault breaks: the
 * self-check demands that the suite fails, and that a failing test carries this clause.
 */
export const faults = {
  // The 201 body
  'id-as-string': { clause: 'create-schema', description: 'data.id is sent as a string ("17")' },
  'missing-room-type': { clause: 'create-schema', description: 'data.roomType is left out' },
  'members-count-string': { clause: 'create-schema', description: 'data.membersCount is sent as a string' },
  'owner-id-number': { clause: 'create-schema', description: 'data.ownerId is sent as a number' },
  'avatar-urls-missing': { clause: 'create-schema', description: 'data.avatarUrls is left out' },
  'avatar-thumb-null': { clause: 'create-schema', description: 'data.avatarUrls.thumb is null' },
  'created-at-not-date': { clause: 'create-schema', description: 'data.createdAt is "28/11/2026 10:00", not RFC 3339' },
  'is-member-string': { clause: 'create-schema', description: 'optional data.isMember is sent as the string "true"' },
  'data-unwrapped': { clause: 'create-schema', description: 'the room is sent at the top level, without { success, data }' },
  'success-false': { clause: 'create-success', description: 'success is false on a 201' },
  'description-null-when-omitted': { clause: 'create-without-description', description: 'a group created without description answers description: null' },
  // Values that come back different from what was sent
  'public-ignored': { clause: 'create-echo', description: 'public is ignored: every group is public' },
  'hide-button-inverted': { clause: 'create-echo', description: 'hideFollowJoinButton is stored inverted' },
  'booleans-swapped': { clause: 'create-echo', description: 'public and hideFollowJoinButton are swapped' },
  'description-dropped': { clause: 'create-echo', description: 'the description is stored as ""' },
  'url-suffixed': { clause: 'create-echo', description: 'the url is stored with a "-1" suffix' },
  'non-ascii-mangled': { clause: 'create-echo', description: 'non-ASCII characters of the name are replaced by "?"' },
  'name-truncated-40': { clause: 'limits-max-accepted', description: 'names are silently cut to 40 characters' },
  // Ownership
  'owner-id-other-user': { clause: 'create-owner', description: 'ownerId is another user' },
  'is-owner-false': { clause: 'create-owner', description: 'isOwner is false for the creator' },
  // Limits
  'name-limit-49': { clause: 'limits-max-accepted', description: 'names of 50 characters are rejected (limit 49)' },
  'name-limit-51': { clause: 'limits-over-rejected', description: 'names of 51 characters are accepted (limit 51)' },
  'url-limit-49': { clause: 'limits-max-accepted', description: 'urls of 50 characters are rejected (limit 49)' },
  'url-limit-51': { clause: 'limits-over-rejected', description: 'urls of 51 characters are accepted (limit 51)' },
  'description-limit-199': { clause: 'limits-max-accepted', description: 'descriptions of 200 characters are rejected' },
  'description-limit-201': { clause: 'limits-over-rejected', description: 'descriptions of 201 characters are accepted' },
  'limits-in-bytes': { clause: 'limits-max-accepted', description: 'limits are counted in UTF-8 bytes, not characters' },
  'limits-not-enforced': { clause: 'limits-over-rejected', description: 'no maximum length is enforced' },
  'over-limit-500': { clause: 'limits-over-rejected', description: 'an over-long name crashes the server (500)' },
  // Required fields, types, malformed bodies
  'empty-name-accepted': { clause: 'validation-required', description: 'an empty name is accepted' },
  'missing-url-accepted': { clause: 'validation-required', description: 'a missing url is generated instead of rejected' },
  'wrong-types-coerced': { clause: 'validation-types', description: 'public: "yes" and similar are coerced and accepted' },
  'wrong-types-500': { clause: 'validation-types', description: 'a name that is not a string crashes the server (500)' },
  'malformed-json-500': { clause: 'validation-malformed', description: 'a body that is not JSON crashes the server (500)' },
  // Duplicates
  'duplicate-url-accepted': { clause: 'duplicate-url', description: 'a taken url is accepted: two groups share it' },
  'duplicate-url-409': { clause: 'duplicate-url', description: 'a taken url answers 409 instead of the documented 400' },
  'duplicate-overwrites': { clause: 'duplicate-url', description: 'a taken url answers 400 but overwrites the first group' },
  // Authentication
  'auth-skipped': { clause: 'auth-missing', description: 'create checks no token at all' },
  'auth-missing-403': { clause: 'auth-missing', description: 'a missing token answers 403 instead of 401' },
  'auth-presence-only': { clause: 'auth-invalid', description: 'any non-empty token is accepted' },
  'auth-signature-unchecked': { clause: 'auth-invalid', description: 'JWTs are decoded but their signature is not checked' },
  'auth-invalid-400': { clause: 'auth-invalid', description: 'an invalid token answers 400 instead of 401' },
  'auth-client-id-unchecked': { clause: 'auth-client-id', description: 'x-client-id is not required' },
  // Side effects of rejected requests
  'rejected-still-stored': { clause: 'rejected-no-side-effect', description: 'an over-long description answers 400 but the group is stored' },
  'refused-shape-stored': { clause: 'rejected-no-side-effect', description: 'a JSON array body, or a url given as a list, answers 400 but is stored as a lenient parser reads it (first elements)' },
  'unauthorized-still-stored': { clause: 'rejected-no-side-effect', description: 'a create with an invalid token answers 401 but the group is stored' },
  // Persistence and read after write
  'not-persisted': { clause: 'read-by-id', description: 'the create answers 201 but nothing is stored' },
  'read-by-url-404': { clause: 'read-by-url', description: 'GET by url never finds a group' },
  'read-stale-name': { clause: 'read-by-id', description: 'the stored name is cut to 30 characters; the create echo is not' },
  'read-wrapped': { clause: 'read-by-id', description: 'GET by id wraps the profile in { success, data }' },
  'flags-stored-as-defaults': { clause: 'read-by-id', description: 'the 201 echoes the flags as sent, but every group is stored public with the button shown' },
  'read-public-flipped': { clause: 'read-by-url', description: 'GET by url reports isPublic inverted' },
  // Transport
  'create-200': { clause: 'create-201', description: 'a create answers 200 instead of 201' },
  'content-type-text': { clause: 'create-201', description: 'the 201 is sent as text/plain' },
  'create-hangs': { clause: 'create-201', description: 'a create never gets an answer' },
  'create-drops-connection': { clause: 'create-201', description: 'a create drops the connection without answering' },
} as const satisfies Record<string, { clause: ClauseId; description: string }>;

export type FaultName = keyof typeof faults;
export const faultNames = Object.keys(faults) as FaultName[];

/**
 * Faithful variants: servers that honour the documentation but differ from the reference in what
 * it leaves open. The suite must pass against every one of them.
 */
export const variants = {
  'extra-fields': 'undocumented fields in every body (top level, data, profile)',
  'optional-omitted': 'every optional field left out (url, subdomain, country, createdAt, isMember, avatar urls)',
  'other-error-bodies': 'errors answered as text/plain or with an empty body instead of { message, type, success }',
  'datetime-offset': 'createdAt with a +03:00 offset and no fractional seconds',
  'datetime-lowercase': 'createdAt with a lowercase "t" and "z" (RFC 3339, section 5.6, allows them)',
  'other-defaults': 'other values where the documentation is silent (roomType, counts, isActive, isVerified, isAdmin)',
  'lowercased-urls': 'urls stored lowercased and looked up case-insensitively',
  slow: 'every answer 300 ms late',
  'rate-limited': 'every 5th request answered 429 with Retry-After: 1',
  'large-ids': 'ids near Number.MAX_SAFE_INTEGER',
  gzip: 'bodies sent gzip-compressed',
} as const satisfies Record<string, string>;

export type VariantName = keyof typeof variants;
export const variantNames = Object.keys(variants) as VariantName[];

/**
 * The domain of one API instance: its store, and the create and read operations, written
 * against the seams of its behaviour. Knows nothing of HTTP beyond the answers it returns.
 */

import type { Behaviour, Credentials, Refusal, Room, Sent, Service, Store } from './behaviour';
import type { Answer } from './http';

export type ReferenceApiStats = { requests: number; byRoute: Record<string, number>; groupsCreated: number };

export type GroupService = {
  create: (credentials: Credentials, raw: Buffer) => Promise<Answer>;
  read: (credentials: Credentials, by: 'id' | 'url', key: string) => Answer;
  /** Every stored group, as copies. */
  groups: () => Room[];
};

function createStore(behaviour: Behaviour): Store {
  const rooms = new Map<number, Room>();
  const idByUrl = new Map<string, number>();
  return {
    byId: (id) => rooms.get(id),
    byUrl: (url) => {
      const id = idByUrl.get(behaviour.urlKey(url));
      return id === undefined ? undefined : rooms.get(id);
    },
    write: (room) => {
      rooms.set(room.id, room);
      idByUrl.set(behaviour.urlKey(room.url), room.id);
    },
    all: () => [...rooms.values()],
  };
}

export function createService(behaviour: Behaviour, stats: ReferenceApiStats): GroupService {
  const b = behaviour;
  const store = createStore(b);
  let nextId = b.firstId;

  /** The group as made is what the create answers; what is written may differ (persist). */
  function make(sent: Sent, owner: string): Room {
    const room: Room = { id: nextId++, ...b.toRoom(sent, owner) };
    stats.groupsCreated++;
    const written = b.persist(room);
    if (written) store.write(written);
    return room;
  }
  const service: Service = { parse: (raw) => b.parseBody(raw), check: (body) => b.validate(body), make, store };

  async function refuse(refusal: Refusal, answer: Answer = { status: refusal.status }): Promise<Answer> {
    await b.onRefused(refusal, service);
    return answer;
  }

  async function create(credentials: Credentials, raw: Buffer): Promise<Answer> {
    const caller = b.authenticate(credentials, 'room.create');
    if ('status' in caller) return refuse({ reason: 'unauthenticated', status: caller.status, raw });
    const user = caller.user;
    const parsed = b.parseBody(raw);
    if ('malformed' in parsed) return refuse({ reason: 'malformed', status: 400, raw, caller: user });
    const checked = b.validate(parsed.body);
    if ('problem' in checked)
      return refuse({ reason: 'invalid', status: 400, body: parsed.body, problem: checked.problem, caller: user });
    // Awaited only when the seam returns a promise: the faithful check and the write that follows
    // run in one synchronous step, so no other create can come between them.
    const verdict = b.checkDuplicate(checked.input, store);
    const taken = verdict instanceof Promise ? await verdict : verdict;
    if (taken) return refuse({ reason: 'duplicate', status: taken.status, sent: checked, caller: user }, taken);
    const room = make(checked, user);
    return b.createdAnswer(b.createdBody(b.serialise(room, user)));
  }

  function read(credentials: Credentials, by: 'id' | 'url', key: string): Answer {
    const caller = b.authenticate(credentials, 'room.read');
    if ('status' in caller) return { status: caller.status };
    const room = by === 'id' ? store.byId(Number(key)) : store.byUrl(key);
    const profile = b.readProfile(room, caller.user, by);
    return profile ? { status: 200, body: profile } : { status: 404 };
  }

  return { create, read, groups: () => store.all().map((room) => ({ ...room })) };
}

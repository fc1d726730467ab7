/**
 * The drift check (fixtures/reporting/drift.ts, tools/drift.ts), offline: the repository's snapshots of the
 * published definitions (contract/openapi/) against the suite's zod schemas, and altered copies of
 * them. In-process, except one test that runs the command for its exit codes.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { KnownDeviation } from '../fixtures/config/deviations';
import { CREATE_STATUSES, CreateGroupRequest, RoomCreatedResponse, RoomProfile } from '../fixtures/contract/schemas';
import {
  checkExpected,
  compare,
  type Difference,
  type DriftResult,
  definitionUrlFor,
  deviationFieldVerdicts,
  driftOf,
  expectedFor,
  fetchDefinition,
  formatDifference,
  PUBLISHED_DEFINITIONS,
  parseExpectedDrift,
  readDefinition,
  renderDriftSection,
  suiteContract,
} from '../fixtures/reporting/drift';
import { runDrift } from '../tools/drift';
import { expect, ROOT, test } from './fixtures';

const SNAPSHOT = { prelive: 'contract/openapi/prelive.json', production: 'contract/openapi/production.json' } as const;
const EXPECTED = 'contract/expected-drift.json';
type Env = keyof typeof SNAPSHOT;

// biome-ignore lint/suspicious/noExplicitAny: altered copies of a definition are reached into freely
type Json = Record<string, any>;
const snapshot = (env: Env): Json => JSON.parse(fs.readFileSync(path.join(ROOT, SNAPSHOT[env]), 'utf8'));
const schemas = (doc: Json): Json => doc.components.schemas;
const lines = async (doc: unknown) => (await driftOf(doc)).differences.map(formatDifference);

/** What a failure says: the zod schema and field, what the definition says, and what to run. */
function notBacked(env: Env, differences: readonly Difference[], what = 'say what'): string {
  return [
    `The suite's zod schemas (fixtures/contract/schemas.ts) ${what} the ${env} definition (${SNAPSHOT[env]}) does not:`,
    ...differences.map((d) => `  - ${d.suiteField}: ${formatDifference(d)}`),
    'A zod schema change the documentation does not back fails here. Check the published definition first:',
    `  npm run contract:drift -- --definition ${PUBLISHED_DEFINITIONS[env]}`,
    'If the documentation moved, refresh the snapshot or contract/expected-drift.json (docs/drift.md).',
  ].join('\n');
}

function tempFile(name: string, content: string): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'qr-drift-')), name);
  fs.writeFileSync(file, content);
  return file;
}

test('the prelive snapshot agrees with the suite: no difference', async () => {
  const { differences } = await driftOf(snapshot('prelive'));
  expect(differences, notBacked('prelive', differences)).toEqual([]);
});

test('the production snapshot differs as recorded: hideFollowJoinButton in create, 201 data, profile', async () => {
  const { differences } = await driftOf(snapshot('production'));
  const expected = expectedFor(
    parseExpectedDrift(JSON.parse(fs.readFileSync(path.join(ROOT, EXPECTED), 'utf8'))),
    'production',
  );
  const { unexpected, missing } = checkExpected(differences, expected);
  expect(
    unexpected,
    notBacked('production', unexpected, 'say, beyond what contract/expected-drift.json records, what'),
  ).toEqual([]);
  expect(missing, `recorded in ${EXPECTED} but no longer found: the definition moved, update the list`).toEqual([]);
  expect(differences.map((d) => `${d.schema}.${d.field} <- ${d.suiteField}`)).toEqual([
    'CreateGroupDto.hideFollowJoinButton <- CreateGroupRequest.hideFollowJoinButton',
    'RoomListItemDto.hideFollowJoinButton <- RoomCreatedResponse.data.hideFollowJoinButton',
    'RoomProfileResponseDto.hideFollowJoinButton <- RoomProfile.hideFollowJoinButton',
  ]);
});

test('the snapshots name their public source and carry no prose', () => {
  for (const env of ['prelive', 'production'] as const) {
    const doc = snapshot(env);
    expect(doc.info['x-source'], env).toMatchObject({
      repository: 'quran/qf-api-docs',
      branch: 'main',
      date: '2026-08-20',
    });
    expect(doc.info['x-source'].path, env).toBe(
      env === 'prelive' ? 'openAPI/user-related-apis/pre-live/v1.json' : 'openAPI/user-related-apis/v1.json',
    );
    const prose: string[] = [];
    const walk = (node: unknown, at: string): void => {
      if (Array.isArray(node)) {
        for (const [i, n] of node.entries()) walk(n, `${at}[${i}]`);
        return;
      }
      if (typeof node !== 'object' || node === null) return;
      for (const [k, v] of Object.entries(node)) {
        if (['description', 'summary', 'example', 'examples'].includes(k) && typeof v !== 'object' && v !== '')
          prose.push(`${at}.${k}`);
        walk(v, `${at}.${k}`);
      }
    };
    walk(doc, env);
    expect(prose).toEqual([]);
    expect(Object.keys(doc.paths).sort()).toEqual(['/v1/rooms/group/{url}', '/v1/rooms/groups', '/v1/rooms/{id}']);
  }
});

test('a changed limit is named: CreateGroupDto.name maxLength', async () => {
  const doc = snapshot('prelive');
  schemas(doc).CreateGroupDto.properties.name.maxLength = 60;
  expect(await lines(doc)).toEqual(['CreateGroupDto.name: maxLength 50 in the suite, 60 in the definition']);
});

test('allOf means every member: the tighter limit of two wins, and members that contradict are noted', async () => {
  const doc = snapshot('prelive');
  const dto = schemas(doc).CreateGroupDto;
  schemas(doc).CreateGroupDto = { allOf: [dto, { properties: { name: { maxLength: 40 } } }] };
  expect(await lines(doc)).toEqual(['CreateGroupDto.name: maxLength 50 in the suite, 40 in the definition']);
  schemas(doc).CreateGroupDto = { allOf: [dto, { properties: { name: { type: 'integer' } } }] };
  const drift = await driftOf(doc);
  expect(drift.notes.join('\n')).toMatch(/allOf members cannot all hold/);
});

test('a changed type is named: RoomListItemDto.id', async () => {
  const doc = snapshot('prelive');
  schemas(doc).RoomListItemDto.properties.id.type = 'string';
  expect(await lines(doc)).toEqual(['RoomListItemDto.id: type number in the suite, string in the definition']);
});

test('a required field added to the definition is named: RoomProfileResponseDto.language', async () => {
  const doc = snapshot('prelive');
  const profile = schemas(doc).RoomProfileResponseDto;
  profile.properties.language = { type: 'string' };
  profile.required.push('language');
  expect(await lines(doc)).toEqual([
    'RoomProfileResponseDto.language: absent in the suite, required string in the definition',
  ]);
});

test('a required field dropped from the definition is named: RoomListItemDto.membersCount', async () => {
  const doc = snapshot('prelive');
  const room = schemas(doc).RoomListItemDto;
  delete room.properties.membersCount;
  room.required = room.required.filter((f: string) => f !== 'membersCount');
  expect(await lines(doc)).toEqual([
    'RoomListItemDto.membersCount: required number in the suite, absent in the definition',
  ]);
});

test('a field no longer required is named: CreateGroupDto.url', async () => {
  const doc = snapshot('prelive');
  schemas(doc).CreateGroupDto.required = ['name'];
  expect(await lines(doc)).toEqual(['CreateGroupDto.url: required in the suite, optional in the definition']);
});

test('statuses of the create: one documented only by the definition, one only by the suite', async () => {
  const doc = snapshot('prelive');
  const responses = doc.paths['/v1/rooms/groups'].post.responses;
  responses['409'] = { description: '' };
  delete responses['401'];
  expect(await lines(doc)).toEqual([
    'POST /v1/rooms/groups status 401: documented in the suite, absent in the definition',
    'POST /v1/rooms/groups status 409: absent in the suite, documented in the definition',
  ]);
});

test('reworded prose is never a difference: descriptions changed, summaries, titles and examples added', async () => {
  const doc = snapshot('production');
  const reword = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(reword);
      return;
    }
    if (typeof node !== 'object' || node === null) return;
    const o = node as Json;
    if (typeof o.description === 'string') o.description = `Reworded: ${o.description || 'something new'}`;
    if (o.type && typeof o.type === 'string')
      Object.assign(o, { title: 'A title', example: o.type === 'string' ? 'x' : 1 });
    if (o.operationId) Object.assign(o, { summary: 'A new summary', description: 'A new description' });
    Object.values(o).forEach(reword);
  };
  reword(doc);
  doc.info.description = 'Quite another introduction';
  expect(schemas(doc).CreateGroupDto.properties.description).toMatchObject({ type: 'string', maxLength: 200 });
  expect(await lines(doc)).toEqual(await lines(snapshot('production')));
});

test('"required: true" inside a property means nothing: avatarUrls.thumb, original optional, noted', async () => {
  const { differences, notes } = await driftOf(snapshot('prelive'));
  expect(differences).toEqual([]);
  expect(notes).toContain(
    'RoomListItemDto.avatarUrls: "required: true" inside thumb, original means nothing in OpenAPI 3 ' +
      '(required is a list on the object); read as optional',
  );
});

test('the create is found under a server prefix; a missing read is named', async () => {
  const doc = snapshot('prelive');
  doc.paths['/quran-reflect/v1/rooms/groups'] = doc.paths['/v1/rooms/groups'];
  delete doc.paths['/v1/rooms/groups'];
  delete doc.paths['/v1/rooms/{id}'];
  expect(await lines(doc)).toEqual(['GET /v1/rooms/{id}: checked in the suite, absent in the definition']);
});

test('a zod schema change the documentation does not back is named with its zod schema and field', async () => {
  const changed = suiteContract({
    request: CreateGroupRequest.extend({ language: z.string() }),
    created: RoomCreatedResponse,
    profile: RoomProfile.extend({ isMember: z.boolean() }),
    createStatuses: CREATE_STATUSES,
  });
  const differences = compare(changed, await readDefinition(snapshot('prelive')));
  expect(differences.map((d) => `${d.suiteField}: ${formatDifference(d)}`)).toEqual([
    'CreateGroupRequest.language: CreateGroupDto.language: required string in the suite, absent in the definition',
    'RoomProfile.isMember: RoomProfileResponseDto.isMember: required in the suite, optional in the definition',
  ]);
  expect(notBacked('prelive', differences)).toContain(
    `npm run contract:drift -- --definition ${PUBLISHED_DEFINITIONS.prelive}`,
  );
});

test('a file that is not a definition exits 2 with a message saying what it is', async () => {
  const notJson = await runDrift(['--definition', tempFile('notes.txt', 'not JSON at all')]);
  expect(notJson.code).toBe(2);
  expect(notJson.err.join('\n')).toMatch(/notes\.txt is not JSON/);
  const noOpenapi = await runDrift(['--definition', path.join(ROOT, 'package.json')]);
  expect(noOpenapi.code).toBe(2);
  expect(noOpenapi.err.join('\n')).toContain('has no "openapi": "3.x" field');
  const swagger = await runDrift(['--definition', tempFile('swagger.json', '{"swagger":"2.0","paths":{}}')]);
  expect(swagger.err.join('\n')).toContain('is Swagger 2.0, not OpenAPI 3.x');
});

test('a definition without the create operation exits 2', async () => {
  const doc = snapshot('prelive');
  delete doc.paths['/v1/rooms/groups'];
  const run = await runDrift(['--definition', tempFile('no-create.json', JSON.stringify(doc))]);
  expect(run.code).toBe(2);
  expect(run.err.join('\n')).toContain('has no create operation (POST on a path ending in /v1/rooms/groups)');
});

test('the expected list is validated, and an entry no longer found fails', async () => {
  expect(() =>
    parseExpectedDrift([{ environment: 'production', recordedOn: '2026-08-20', reason: 'short', differences: [] }]),
  ).toThrow(/entry 0\.reason: must say why[\s\S]*entry 0\.differences: must list at least one/);
  const run = await runDrift([
    '--definition',
    path.join(ROOT, SNAPSHOT.prelive),
    '--expected',
    path.join(ROOT, EXPECTED),
  ]);
  expect(run.code).toBe(1);
  expect(run.out).toHaveLength(3);
  expect(run.out[0]).toBe(
    'expected but not found: ' +
      'CreateGroupDto.hideFollowJoinButton: optional boolean in the suite, absent in the definition',
  );
});

test("a deviation's fields: the definition lacks them too, or has them (the server lags)", async () => {
  const deviation: KnownDeviation = {
    clause: 'create-echo' as KnownDeviation['clause'],
    environment: 'production',
    reason: 'the server drops hideFollowJoinButton',
    link: 'https://example.org/ticket/1',
    reviewBy: '2026-12-31',
    fields: ['hideFollowJoinButton', 'RoomListItemDto.isPublic'],
  };
  const production = (await driftOf(snapshot('production'))).differences;
  expect(deviationFieldVerdicts(deviation, production).map((v) => v.verdict)).toEqual([
    'documentation-lags-too',
    'server-lags',
  ]);
  const prelive = (await driftOf(snapshot('prelive'))).differences;
  expect(deviationFieldVerdicts(deviation, prelive).map((v) => v.text)).toEqual([
    'hideFollowJoinButton: the definition has it as the suite does (the server lags)',
    'RoomListItemDto.isPublic: the definition has it as the suite does (the server lags)',
  ]);
  const section = renderDriftSection(
    'production',
    {
      status: 'compared',
      url: PUBLISHED_DEFINITIONS.production,
      differences: production,
      unexpected: [],
      missing: [],
      notes: [],
    },
    [deviation],
  );
  expect(section).toContain('- 3 difference(s), all recorded as expected.');
  expect(section).toContain(
    '- Known deviation `create-echo`, hideFollowJoinButton: the definition lacks it too (the documentation lags too).',
  );
});

test('the summary section: unexpected differences listed, an unreachable definition said in one line', async () => {
  const production = (await driftOf(snapshot('production'))).differences;
  const compared: DriftResult = {
    status: 'compared',
    url: 'https://example.org/v1.json',
    differences: production,
    unexpected: production.slice(0, 1),
    missing: [],
    notes: [],
  };
  const section = renderDriftSection('production', compared);
  expect(section[0]).toBe('### Documentation drift: production');
  expect(section).toContain(
    '  - `CreateGroupDto.hideFollowJoinButton: optional boolean in the suite, absent in the definition`',
  );
  expect(
    renderDriftSection('prelive', {
      status: 'unavailable',
      url: 'https://x.test/v1.json',
      reason: 'no answer within 5000 ms',
    }),
  ).toContain('Not checked: no answer within 5000 ms.');
});

test('definition URLs: the published ones by default, <ENV>_OPENAPI_URL when set, none for local', () => {
  expect(definitionUrlFor('production', {})).toBe(
    'https://raw.githubusercontent.com/quran/qf-api-docs/main/openAPI/user-related-apis/v1.json',
  );
  expect(definitionUrlFor('prelive', {})).toBe(
    'https://raw.githubusercontent.com/quran/qf-api-docs/main/openAPI/user-related-apis/pre-live/v1.json',
  );
  expect(definitionUrlFor('prelive', { PRELIVE_OPENAPI_URL: 'https://mirror.test/pre.json' })).toBe(
    'https://mirror.test/pre.json',
  );
  expect(definitionUrlFor('local', {})).toBeUndefined();
});

test('fetchDefinition never throws: refused, not found, not JSON, not a URL each give one line', async () => {
  const server = http.createServer((req, res) => {
    if (req.url === '/text') res.end('<html>not json</html>');
    else if (req.url === '/ok') res.end(fs.readFileSync(path.join(ROOT, SNAPSHOT.prelive)));
    else res.writeHead(404).end();
  });
  const listen = (s: http.Server) =>
    new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));
  const closed = http.createServer();
  const refused = `http://127.0.0.1:${await listen(closed)}/v1.json`;
  await new Promise((resolve) => closed.close(resolve));
  const base = `http://127.0.0.1:${await listen(server)}`;
  try {
    const o = { timeoutMs: 5_000 };
    const ok = await fetchDefinition(`${base}/ok`, o);
    expect(ok.ok).toBe(true);
    const urls = [`${base}/text`, `${base}/missing`, refused, 'not a url'];
    const reasons = await Promise.all(urls.map(async (u) => fetchDefinition(u, o)));
    for (const r of reasons)
      expect(r.ok === false && !r.reason.includes('\n') && r.reason.length > 10, JSON.stringify(r)).toBe(true);
    expect(reasons.map((r) => (r.ok ? '' : r.reason))).toEqual([
      expect.stringMatching(/\/text is not JSON/),
      `${base}/missing answered 404`,
      `${refused} could not be fetched (fetch failed: ECONNREFUSED)`,
      expect.stringContaining('not a url could not be fetched'),
    ]);
  } finally {
    server.close();
  }
});

test('the CLI: exit 0 when they agree or differ as recorded, 1 per difference, 2 for a non-definition', async () => {
  // One child for the wiring (lines to stdout and stderr, the exit code); the other outcomes in-process, where a
  // child costs about two seconds of CPU.
  const tsx = path.join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const env = { PATH: process.env.PATH ?? '', HOME: os.tmpdir() };
  const child = (...args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [tsx, 'tools/drift.ts', ...args],
        { cwd: ROOT, env, timeout: 60_000 },
        (e, stdout, stderr) => resolve({ code: e ? ((e as { code?: number }).code ?? -1) : 0, stdout, stderr }),
      );
    });
  const at = (file: string) => path.join(ROOT, file);
  const [differ, agree, recorded, invalid] = await Promise.all([
    child('--definition', SNAPSHOT.production),
    runDrift(['--definition', at(SNAPSHOT.prelive)]),
    runDrift(['--definition', at(SNAPSHOT.production), '--expected', at(EXPECTED)]),
    runDrift(['--definition', at('package.json')]),
  ]);
  const differences = expectedFor(
    parseExpectedDrift(JSON.parse(fs.readFileSync(path.join(ROOT, EXPECTED), 'utf8'))),
    'production',
  );
  expect(differ.code, differ.stderr).toBe(1);
  expect(differ.stdout.trim().split('\n')).toEqual(differences);
  expect(differ.stderr).toContain(`${differences.length} differences between fixtures/contract/schemas.ts and`);
  expect([agree.code, agree.out], agree.err.join('\n')).toEqual([0, [expect.stringContaining('agree')]]);
  expect([recorded.code, recorded.out.length], recorded.err.join('\n')).toEqual([0, 1]);
  expect([invalid.code, invalid.out], invalid.err.join('\n')).toEqual([2, []]);
  expect(invalid.err.join('\n')).toContain('package.json is not an OpenAPI definition');
});

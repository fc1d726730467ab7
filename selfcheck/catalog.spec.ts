/**
 * The fault catalog is what the fault matrix proves: every fault is the faithful behaviour with one
 * seam deviated, breaks a clause that exists, and together the faults cover every family of the
 * contract; every variant deviates at least one seam; every name of the catalog is served under
 * its own path prefix. Proven from the catalog's data and the built behaviours, not from source text.
 */
import { type ClauseId, clauseIds } from '../fixtures/contract/clauses';
import { compose, type Deviation, type Seam, seamNames } from '../reference-api/behaviour';
import { faultNames, faults, variantNames, variants } from '../reference-api/faults';
import { createReferenceApi, type InstanceName, instanceBasePath, listen } from '../reference-api/server';
import { expect, test } from './fixtures';

/** The families of the contract; each must be broken by at least one fault. */
const families: Record<string, ClauseId[]> = {
  'status and content type': ['create-201'],
  '201 body schema': ['create-schema', 'create-success', 'create-without-description'],
  'the group as sent and its optional fields': ['create-echo', 'create-text-intact', 'create-optional-omitted'],
  'ownership and server-owned fields': ['create-owner', 'server-owned-fields'],
  'length limits': ['limits-max-accepted', 'limits-over-rejected'],
  validation: ['validation-required', 'validation-types', 'validation-malformed', 'optional-null'],
  'duplicate url': ['duplicate-url', 'duplicate-url-concurrent'],
  authentication: ['auth-missing', 'auth-invalid', 'auth-client-id'],
  'no side effect of a rejection': ['rejected-no-side-effect'],
  'read after write': ['read-by-id', 'read-by-url'],
  'no server error for a text': ['text-no-server-error'],
};

const shared = { signingKey: 'catalog-key' };

/** The seams in which a behaviour built from `deviations` is not the faithful record it was built on. */
function deviatedSeams(deviations: readonly Deviation[]): Seam[] {
  const { faithful, behaviour } = compose(deviations, shared);
  return seamNames.filter((seam) => behaviour[seam] !== faithful[seam]);
}

const sameKind = (a: unknown, b: unknown) => typeof a === typeof b && Array.isArray(a) === Array.isArray(b);
const bySeam = (a: Seam, b: Seam) => seamNames.indexOf(a) - seamNames.indexOf(b);
test('the faithful behaviour is a record of named seams, and nothing else', () => {
  const { faithful } = compose([], shared);
  expect(Object.keys(faithful).sort()).toEqual([...seamNames].sort());
  expect(seamNames.length).toBeGreaterThanOrEqual(20);
  expect(deviatedSeams([])).toEqual([]);
});

test('every fault deviates exactly one seam that exists, and only that seam', () => {
  const { faithful } = compose([], shared);
  const wrong = faultNames.flatMap((name) => {
    const f = faults[name];
    const deviated: unknown = (f.deviate as (seam: unknown) => unknown)(faithful[f.seam]);
    const problems = [
      Object.keys(f).sort().join() !== 'clause,description,deviate,seam' && `fields ${Object.keys(f).join()}`,
      !seamNames.includes(f.seam) && `unknown seam ${f.seam}`,
      !sameKind(deviated, faithful[f.seam]) && `deviates ${f.seam} into something of another kind`,
      deviatedSeams([f]).join() !== f.seam && `built, it differs in [${deviatedSeams([f]).join()}], not [${f.seam}]`,
    ];
    return problems.filter(Boolean).map((p) => `${name}: ${p}`);
  });
  expect(wrong).toEqual([]);
});

test('every variant deviates at least one seam, each of them one that exists', () => {
  const wrong = variantNames.flatMap((name) => {
    const { deviations, description } = variants[name];
    const seams = deviations.map((d) => d.seam);
    const problems = [
      !description && 'no description',
      seams.length === 0 && 'deviates nothing',
      seams.some((s) => !seamNames.includes(s)) && `unknown seam in [${seams.join()}]`,
      deviatedSeams(deviations).join() !==
        [...new Set(seams)]
          .filter((s) => seamNames.includes(s))
          .sort(bySeam)
          .join() && `built, it differs in [${deviatedSeams(deviations).join()}], not [${seams.join()}]`,
    ];
    return problems.filter(Boolean).map((p) => `${name}: ${p}`);
  });
  expect(wrong).toEqual([]);
});

test('every fault breaks a clause of the contract, and the faults cover every family and every clause', () => {
  expect(faultNames.length).toBeGreaterThanOrEqual(60);
  expect(faultNames.filter((f) => !clauseIds.includes(faults[f].clause))).toEqual([]);
  expect(faultNames.filter((f) => !faults[f].description)).toEqual([]);
  const broken = new Set<string>(faultNames.map((f) => faults[f].clause));
  const uncovered = Object.entries(families).filter(([, ids]) => !ids.some((id) => broken.has(id)));
  expect(uncovered.map(([family]) => family)).toEqual([]);
  const inFamilies = Object.values(families).flat();
  expect(
    clauseIds.filter((id) => !inFamilies.includes(id)),
    'a clause outside every family',
  ).toEqual([]);
  expect(
    clauseIds.filter((id) => !broken.has(id)),
    'a clause no fault breaks',
  ).toEqual([]);
});

test('every name of the catalog is served under its own path prefix, by an instance of its own', async () => {
  const names: InstanceName[] = ['faithful', ...faultNames, ...variantNames];
  expect(new Set(names).size, 'fault and variant names do not collide').toBe(names.length);
  const api = createReferenceApi({ clients: {} });
  const server = await listen(api);
  try {
    const statuses = await Promise.all(
      names.map((name) => fetch(`${server.origin}${instanceBasePath(name)}/v1/rooms/1`).then((r) => r.status)),
    );
    const prefix = (name: InstanceName) =>
      name === 'faithful' ? '/faithful' : `/${name in faults ? 'fault' : 'variant'}/${name}`;
    expect(names.filter((name) => instanceBasePath(name) !== `${prefix(name)}/quran-reflect`)).toEqual([]);
    const missed = names.filter((name) => api.instance(name).stats.byRoute['read-by-id'] !== 1);
    expect(missed, 'each request reached the instance of its name').toEqual([]);
    expect(statuses.filter((s) => s === 404).length, 'only auth-skipped lets an anonymous read look').toBe(1);
    expect(api.stats.requests, 'the root instance saw none of it').toBe(0);
    const unknown = await fetch(`${server.origin}/fault/no-such-fault/quran-reflect/v1/rooms/1`);
    expect([unknown.status, api.stats.byRoute.unknown]).toEqual([404, 1]);
  } finally {
    await server.close();
  }
});

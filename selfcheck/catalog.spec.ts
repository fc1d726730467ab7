/**
 * The fault catalog is what the fault matrix proves: every fault is one deviation read at exactly
 * one place of the reference API, breaks a clause that exists, and together they cover every
 * family of the contract.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { clauseIds, type ClauseId } from '../fixtures/clauses';
import { faultNames, faults, variantNames } from '../reference-api/faults';

const server = fs.readFileSync(path.join(__dirname, '..', 'reference-api', 'server.ts'), 'utf8');
const count = (what: 'fault' | 'variant', name: string) => server.split(`${what} === '${name}'`).length - 1;

/** The families of the contract (issue 3); each must be broken by at least one fault. */
const families: Record<string, ClauseId[]> = {
  'status and content type': ['create-201'],
  '201 body schema': ['create-schema', 'create-success', 'create-without-description'],
  'the group as sent': ['create-echo'],
  ownership: ['create-owner'],
  'length limits': ['limits-max-accepted', 'limits-over-rejected'],
  validation: ['validation-required', 'validation-types', 'validation-malformed'],
  'duplicate url': ['duplicate-url'],
  authentication: ['auth-missing', 'auth-invalid', 'auth-client-id'],
  'no side effect of a rejection': ['rejected-no-side-effect'],
  'read after write': ['read-by-id', 'read-by-url'],
};

test('every fault is read at exactly one place of the reference API, every variant at least once', () => {
  expect(faultNames.filter((f) => count('fault', f) !== 1).map((f) => `${f}: read at ${count('fault', f)} places`)).toEqual([]);
  expect(variantNames.filter((v) => count('variant', v) < 1)).toEqual([]);
  // Read only as `fault === '...'`, and only names of the catalog.
  expect(server.match(/\b(fault|variant) !==/g) ?? []).toEqual([]);
  const read = (what: string) => [...server.matchAll(new RegExp(`\\b${what} === '([\\w-]+)'`, 'g'))].map((m) => m[1]);
  expect(read('fault').filter((f) => !(faultNames as string[]).includes(f))).toEqual([]);
  expect(read('variant').filter((v) => !(variantNames as string[]).includes(v))).toEqual([]);
});

test('every fault breaks a clause of the contract, and the faults cover every family', () => {
  expect(faultNames.length).toBeGreaterThanOrEqual(30);
  expect(faultNames.filter((f) => !clauseIds.includes(faults[f].clause))).toEqual([]);
  const broken = new Set<string>(faultNames.map((f) => faults[f].clause));
  expect(Object.entries(families).filter(([, ids]) => !ids.some((id) => broken.has(id))).map(([family]) => family)).toEqual([]);
  expect(clauseIds.filter((id) => !Object.values(families).flat().includes(id)), 'a clause outside every family').toEqual([]);
});

/**
 * The request space (fixtures/contract/request-space.ts, fixtures/harness/groups.ts): the run's three groups are a
 * covering design of the documented ways to make a group, production leaves out what it cannot
 * have and says why, and the negative cases are generated per field from the request schema.
 */
import { z } from 'zod';
import { TestData } from '../fixtures/contract/data';
import {
  casesOf,
  fieldsOf,
  negativeCases,
  negativeTests,
  optionalNulls,
  type PositiveCase,
  positiveCases,
} from '../fixtures/contract/request-space';
import { CreateGroupRequest } from '../fixtures/contract/schemas';
import { groupFor, groupKeys, plans } from '../fixtures/harness/groups';
import { environmentFor, expect, test } from './fixtures';

const sample = new TestData(1, 'sample', 's');

test('the three groups of a run cover every documented way of making a group', () => {
  const prelive = environmentFor('prelive');
  const uncovered = positiveCases().filter((c) => 'unavailable' in groupFor(c, prelive));
  expect(uncovered).toEqual([]);
  expect(positiveCases()).toEqual(
    expect.arrayContaining(['minimal body', 'public: omitted', 'public: true', 'public: false']),
  );
});

test('no group of the run is redundant: each covers a case the others do not', () => {
  const prelive = environmentFor('prelive');
  const covered = (k: (typeof groupKeys)[number]) => casesOf(plans[k].body(sample, prelive));
  for (const key of groupKeys) {
    const others = new Set(groupKeys.filter((k) => k !== key).flatMap(covered));
    expect(
      covered(key).filter((c) => !others.has(c)),
      key,
    ).not.toEqual([]);
  }
});

test('in production, the cases that need public left out or true are unavailable, saying why', () => {
  const production = environmentFor('production');
  const unavailable = Object.fromEntries(
    positiveCases().flatMap((c) => {
      const covering = groupFor(c, production);
      return 'unavailable' in covering ? [[c, covering.unavailable]] : [];
    }),
  );
  const needsPublicOpen: PositiveCase[] = [
    'description: omitted',
    'public: omitted',
    'public: true',
    'hideFollowJoinButton: omitted',
    'minimal body',
  ];
  expect(Object.keys(unavailable).sort()).toEqual([...needsPublicOpen].sort());
  for (const reason of Object.values(unavailable))
    expect(reason).toMatch(/^production groups are .*public: false.*needs public left out or true/);
});

test('the negative cases hold every class of invalid value for each documented field', () => {
  const titles = negativeCases().map((c) => `${c.title} -> ${c.clause}`);
  const types = (field: string, kinds: string[]) => kinds.map((k) => `${field}: ${k} -> validation-types`);
  const strings = ['a number', 'a boolean', 'a list', 'an object'];
  const booleans = ['a string', 'a number', 'a list', 'an object'];
  expect(titles.sort()).toEqual(
    [
      ...['name', 'url'].flatMap((f) => [`${f}: missing -> validation-required`, `${f}: empty -> validation-required`]),
      ...['name', 'url'].map((f) => `${f}: null -> validation-types`),
      'name: 51 characters, one over the limit -> limits-over-rejected',
      'url: 51 characters, one over the limit -> limits-over-rejected',
      'description: 201 characters, one over the limit -> limits-over-rejected',
      ...['name', 'url', 'description'].flatMap((f) => types(f, strings)),
      ...['public', 'hideFollowJoinButton'].flatMap((f) => types(f, booleans)),
      ...['a JSON list of a valid body', 'a JSON string', 'a JSON number', 'a JSON boolean', 'JSON null'].map(
        (b) => `the body: ${b} -> validation-types`,
      ),
      'the body: not JSON -> validation-malformed',
    ].sort(),
  );
});

test('the negative cases are generated from the schema: a new field gets its own', () => {
  const withTag = CreateGroupRequest.extend({ tag: z.string().meta({ minChars: 1, maxChars: 10 }) });
  const titles = negativeCases(fieldsOf(withTag)).map((c) => c.title);
  expect(titles.filter((t) => t.startsWith('tag: '))).toEqual([
    'tag: missing',
    'tag: null',
    'tag: empty',
    'tag: a number',
    'tag: a boolean',
    'tag: a list',
    'tag: an object',
    'tag: 11 characters, one over the limit',
  ]);
});

test('null in an optional field is no invalid value: the optional fields are null in one body, the rest valid', () => {
  const nulls = optionalNulls();
  expect(nulls.fields).toEqual(['description', 'public', 'hideFollowJoinButton']);
  const body = nulls.body(sample);
  expect(CreateGroupRequest.safeParse({ name: body.name, url: body.url }).success).toBe(true);
  expect(Object.entries(body).filter(([, v]) => v === null)).toEqual(nulls.fields.map((f) => [f, null]));
  expect(negativeCases().filter((c) => c.what === 'null' && nulls.fields.includes(c.subject))).toEqual([]);
  const withNote = CreateGroupRequest.extend({ note: z.string().optional() });
  expect(optionalNulls(fieldsOf(withNote)).fields).toContain('note');
});

test('three tests send every negative case, each once: the name one over its limit alone for the smoke run', () => {
  const tests = negativeTests();
  const titles = (cases: { title: string }[]) => cases.map((c) => c.title).sort();
  expect(titles(tests.flatMap((g) => g.cases))).toEqual(titles(negativeCases()));
  for (const g of tests) expect(g.clauses).toEqual([...new Set(g.cases.map((c) => c.clause))]);
  expect(tests.map((g) => [g.title, g.cases.length, g.smoke ?? false])).toEqual([
    ['name: 51 characters, one over the limit', 1, true],
    ['an invalid name, description or url', 20, false],
    ['an invalid public or hideFollowJoinButton, or a body that is not a JSON object', 14, false],
  ]);
});

test('cases that break fail their one test, which tells each case and still credits the clauses that held', async ({
  runSuite,
}) => {
  // The server crashes on a name of the wrong type; the test's other cases hold (each text field's missing, empty and
  // over-the-limit values among them).
  const run = await runSuite(['--project=local', '--grep', 'with an invalid name'], {
    QR_REFERENCE_FAULT: 'wrong-types-500',
  });
  const [failed, ...more] = run.testsWith('unexpected');
  expect(more).toEqual([]);
  const error = failed.errors.join('\n');
  expect(error).toMatch(
    /^ContractViolation: \[validation-types\] .*\n5 of 20 cases broke it:\n• name: null\n {2}Received: /,
  );
  for (const what of ['a number', 'a boolean', 'a list', 'an object']) expect(error).toContain(`\n• name: ${what}\n`);
  expect(error).not.toMatch(/• (description|url):/);
  expect(new Set(run.annotations('qr-violation').map((v) => v.clause))).toEqual(new Set(['validation-types']));
  expect(run.cellsOf('validation-types')[0]).toMatch(/FAILED/);
  expect(run.annotations('qr-cases-passed')).toEqual([['validation-required', 'limits-over-rejected']]);
  expect(run.cellsOf('validation-required')[0]).toMatch(/passed/);
});

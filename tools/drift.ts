/**
 * npm run contract:drift -- --definition <file or URL> [--expected <file> [--environment <name>]]
 *
 * Compares the suite's zod schemas with an OpenAPI 3 definition (fixtures/reporting/drift.ts).
 * Exit 0: they agree (or differ only as recorded in --expected). Exit 1: one line per difference.
 * Exit 2: the definition (or the expected list, or the arguments) cannot be used.
 */
import fs from 'node:fs';
import { z } from 'zod';
import { type CommandSpec, parseCommandLine, UsageError } from '../fixtures/contract/cli';
import {
  checkExpected,
  DefinitionError,
  driftOf,
  type ExpectedDrift,
  expectedFor,
  type Fetched,
  fetchDefinition,
  formatDifference,
  parseDefinitionText,
  parseExpectedDrift,
} from '../fixtures/reporting/drift';

const spec: CommandSpec = {
  usage: 'npm run contract:drift -- --definition <file or URL> [--expected <file> [--environment <name>]]',
  about:
    "Compares the suite's zod schemas with an OpenAPI 3 definition (docs/drift.md). Exit 0: they agree, or differ\n" +
    'only as --expected records. Exit 1: one line per difference. Exit 2: the definition cannot be used.',
  options: {
    definition: { type: 'string', help: '<file|URL> the OpenAPI 3 definition (JSON or YAML)' },
    expected: { type: 'string', help: '<file> the differences expected (contract/expected-drift.json)' },
    environment: { type: 'string', help: '<name> whose expected differences apply (prelive, production)' },
    'timeout-ms': { type: 'string', help: '<ms> for fetching a URL', default: '10000' },
    notes: { type: 'boolean', help: 'also prints what was read loosely (e.g. "required: true" in a property)' },
  },
};
const USAGE = `usage: ${spec.usage} (--help for the options)`;

const Args = z.object({
  definition: z.string({ error: '--definition <file or URL> is required' }).trim().min(1, '--definition is empty'),
  expected: z.string().trim().min(1, '--expected is empty').optional(),
  environment: z.string().trim().min(1, '--environment is empty').optional(),
  'timeout-ms': z.coerce
    .number({ error: '--timeout-ms must be a number of milliseconds' })
    .int()
    .min(100, '--timeout-ms must be at least 100')
    .max(120_000, '--timeout-ms must be at most 120000')
    .default(10_000),
  notes: z.boolean().default(false),
});
type Args = z.infer<typeof Args>;

export type Outcome = { code: 0 | 1 | 2; out: string[]; err: string[] };
const fail = (...err: string[]): Outcome => ({ code: 2, out: [], err });

function readArgs(argv: string[]): Args | Outcome {
  let read: ReturnType<typeof parseCommandLine>;
  try {
    read = parseCommandLine(spec, argv);
  } catch (e) {
    if (e instanceof UsageError) return fail(`contract:drift: ${e.message}`);
    throw e;
  }
  if ('help' in read) return { code: 0, out: [read.help.trimEnd()], err: [] };
  const parsed = Args.safeParse(read.values);
  return parsed.success ? parsed.data : fail(...parsed.error.issues.map((i) => i.message), USAGE);
}

const isUrl = (s: string) => /^https?:\/\//i.test(s);

/** A definition from a file or an http(s) URL: the parsed JSON, or one line saying why not. */
export async function loadDefinition(source: string, timeoutMs: number): Promise<Fetched> {
  if (isUrl(source)) return fetchDefinition(source, { timeoutMs });
  let text: string;
  try {
    text = fs.readFileSync(source, 'utf8');
  } catch (e) {
    return {
      ok: false,
      reason: `${source} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
    };
  }
  try {
    return { ok: true, definition: parseDefinitionText(text) };
  } catch (e) {
    return { ok: false, reason: `${source} ${(e as Error).message}` };
  }
}

/** The expected lines for the environment, or an outcome saying why the list cannot be used. */
function readExpected(
  file: string,
  environment: string | undefined,
): { environment: string; lines: string[] } | Outcome {
  let list: ExpectedDrift;
  try {
    list = parseExpectedDrift(JSON.parse(fs.readFileSync(file, 'utf8')), file);
  } catch (e) {
    return fail(e instanceof DefinitionError ? e.message : `${file} cannot be read as JSON (${(e as Error).message})`);
  }
  const env = environment ?? (list.length === 1 ? list[0].environment : undefined);
  if (!env)
    return fail(
      `${file} records several environments (${list.map((e) => e.environment).join(', ')}): ` +
        'name one with --environment',
    );
  return { environment: env, lines: expectedFor(list, env) };
}

/** The whole command, without touching the process: what to print where, and the exit code. */
export async function runDrift(argv: string[]): Promise<Outcome> {
  const args = readArgs(argv);
  if ('code' in args) return args;
  const expected = args.expected ? readExpected(args.expected, args.environment) : undefined;
  if (expected && 'code' in expected) return expected;
  const loaded = await loadDefinition(args.definition, args['timeout-ms']);
  if (!loaded.ok) return fail(loaded.reason);
  let drift: Awaited<ReturnType<typeof driftOf>>;
  try {
    drift = await driftOf(loaded.definition);
  } catch (e) {
    if (e instanceof DefinitionError) return fail(`${args.definition} ${e.message}`);
    throw e;
  }
  const err = args.notes ? drift.notes.map((n) => `note: ${n}`) : [];
  if (!expected) {
    if (!drift.differences.length)
      return {
        code: 0,
        out: [
          `fixtures/contract/schemas.ts and ${args.definition} agree (create body, 201 body, statuses, room profile).`,
        ],
        err,
      };
    const n = drift.differences.length;
    return {
      code: 1,
      out: drift.differences.map(formatDifference),
      err: [
        ...err,
        `${n} difference${n === 1 ? '' : 's'} between fixtures/contract/schemas.ts and ${args.definition}.`,
      ],
    };
  }
  const { unexpected, missing } = checkExpected(drift.differences, expected.lines);
  if (!unexpected.length && !missing.length) {
    const n = drift.differences.length;
    const line = n
      ? `fixtures/contract/schemas.ts and ${args.definition} differ only as recorded for ${expected.environment} ` +
        `in ${args.expected} (${n}).`
      : `fixtures/contract/schemas.ts and ${args.definition} agree, as ${args.expected} expects for ${expected.environment}.`;
    return { code: 0, out: [line], err };
  }
  return {
    code: 1,
    out: [
      ...unexpected.map((d) => `unexpected: ${formatDifference(d)}`),
      ...missing.map((line) => `expected but not found: ${line}`),
    ],
    err: [
      ...err,
      `The drift against ${args.definition} is not what ${args.expected} records for ${expected.environment}.`,
    ],
  };
}

if (require.main === module) {
  runDrift(process.argv.slice(2)).then(
    (o) => {
      for (const line of o.out) process.stdout.write(`${line}\n`);
      for (const line of o.err) process.stderr.write(`${line}\n`);
      process.exit(o.code);
    },
    (e: unknown) => {
      process.stderr.write(`contract:drift failed: ${(e as Error)?.stack ?? String(e)}\n`);
      process.exit(2);
    },
  );
}

/**
 * npx tsx tools/snapshot-definition.ts --definition <file|URL> --out contract/openapi/<env>.json
 *   [--source <public URL the file came from>] [--date YYYY-MM-DD]
 *
 * A facts-only snapshot of a published definition: the create operation and the two reads, the
 * component schemas they use, the security schemes; no descriptions, summaries, examples or titles
 * (a response keeps `description: ""`, which OpenAPI requires). `info.x-source` names where it came
 * from (repository, branch, path, URL) and the day it was read. The `required: true` flags some
 * properties carry are kept as published: the drift check reads them as meaningless, and says so.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { type CommandSpec, exitOnUsageError, readCommandLine } from '../fixtures/contract/cli';
import { asOpenApi3, DefinitionError, type Located, locateOperations } from '../fixtures/reporting/drift';
import { loadDefinition } from './drift';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const mapValues = (v: unknown, f: (x: unknown) => unknown) =>
  isObject(v) ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, f(x)])) : v;

const PROSE = new Set(['description', 'summary', 'title', 'example', 'examples', 'externalDocs', '$comment', 'tags']);
const dropped = (key: string) => PROSE.has(key) || key.startsWith('x-');

const SCHEMA_MAPS = new Set(['properties', 'patternProperties', '$defs', 'definitions', 'dependentSchemas']);
const SCHEMA_ONE = new Set(['items', 'additionalProperties', 'not', 'contains', 'propertyNames', 'if', 'then', 'else']);
const SCHEMA_LISTS = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems']);

/** A schema without prose; property names (a property may well be called `description`) are kept. */
export function cleanSchema(s: unknown): unknown {
  if (!isObject(s)) return s;
  const out: Json = {};
  for (const [k, v] of Object.entries(s)) {
    if (dropped(k)) continue;
    if (SCHEMA_MAPS.has(k)) out[k] = mapValues(v, cleanSchema);
    else if (SCHEMA_ONE.has(k)) out[k] = cleanSchema(v);
    else if (SCHEMA_LISTS.has(k) && Array.isArray(v)) out[k] = v.map(cleanSchema);
    else out[k] = v;
  }
  return out;
}

/** Any other object (parameter, header, server, security scheme): prose keys dropped, schemas cleaned. */
function cleanObject(o: unknown): unknown {
  if (Array.isArray(o)) return o.map(cleanObject);
  if (!isObject(o)) return o;
  if (typeof o.$ref === 'string') return { $ref: o.$ref };
  const out: Json = {};
  for (const [k, v] of Object.entries(o)) {
    if (dropped(k) || k === 'encoding') continue;
    if (k === 'schema') out[k] = cleanSchema(v);
    // OAuth2 scopes map names to prose: the names are the facts.
    else if (k === 'scopes' && isObject(v)) out[k] = mapValues(v, () => '');
    else out[k] = cleanObject(v);
  }
  return out;
}

function cleanResponse(r: unknown): unknown {
  if (!isObject(r) || typeof r.$ref === 'string') return cleanObject(r);
  return { description: '', ...(cleanObject(r) as Json) };
}

function cleanOperation(op: Json): Json {
  const out = cleanObject({ ...op, responses: undefined, callbacks: undefined }) as Json;
  delete out.responses;
  delete out.callbacks;
  if (isObject(op.responses)) out.responses = mapValues(op.responses, cleanResponse);
  return out;
}

const CLEANERS: Record<string, (v: unknown) => unknown> = { schemas: cleanSchema, responses: cleanResponse };

/** Every `#/components/<kind>/<name>` the kept parts use, followed transitively. */
function usedComponents(doc: Json, start: unknown): Record<string, Json> {
  const components = isObject(doc.components) ? doc.components : {};
  const used: Record<string, Json> = {};
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (!isObject(node)) return;
    const m = typeof node.$ref === 'string' ? /^#\/components\/([^/]+)\/([^/]+)$/.exec(node.$ref) : null;
    if (m) {
      const [kind, name] = [m[1], m[2].replace(/~1/g, '/').replace(/~0/g, '~')];
      const source = isObject(components[kind]) ? components[kind][name] : undefined;
      if (source !== undefined && !(isObject(used[kind]) && name in used[kind])) {
        const cleaned = (CLEANERS[kind] ?? cleanObject)(source);
        used[kind] = { ...used[kind], [name]: cleaned };
        visit(cleaned);
      }
    }
    Object.values(node).forEach(visit);
  };
  visit(start);
  for (const kind of Object.keys(used))
    used[kind] = Object.fromEntries(Object.entries(used[kind]).sort(([a], [b]) => a.localeCompare(b)));
  return used;
}

export type Source = { repository?: string; branch?: string; path?: string; url: string; date: string };

/** Repository, branch and path from a raw.githubusercontent.com URL; the URL alone otherwise. */
export function sourceOf(url: string, date: string): Source {
  const m = /^https:\/\/raw\.githubusercontent\.com\/([^/]+\/[^/]+)\/([^/]+)\/(.+)$/.exec(url);
  return m ? { repository: m[1], branch: m[2], path: m[3], url, date } : { url, date };
}

/** The snapshot of a full definition: pure, throws DefinitionError when it has no create operation. */
export function snapshotDefinition(doc: unknown, source: Source): Json {
  const def = asOpenApi3(doc);
  const { create, reads } = locateOperations(def);
  const paths: Json = {};
  for (const o of [create, ...reads].filter((x): x is Located => !!x)) {
    const item = (def.paths as Json)[o.path] as Json;
    const shared = Array.isArray(item.parameters) ? { parameters: cleanObject(item.parameters) } : {};
    paths[o.path] = { ...(paths[o.path] as Json), ...shared, [o.method]: cleanOperation(o.operation) };
  }
  const components = isObject(def.components) ? def.components : {};
  const securitySchemes = isObject(components.securitySchemes)
    ? mapValues(components.securitySchemes, cleanObject)
    : undefined;
  const info = isObject(def.info) ? def.info : {};
  return {
    openapi: def.openapi,
    info: { title: info.title ?? 'OpenAPI definition', version: info.version ?? '0', 'x-source': source },
    ...(Array.isArray(def.servers) ? { servers: cleanObject(def.servers) } : {}),
    paths,
    components: { ...usedComponents(def, paths), ...(securitySchemes ? { securitySchemes } : {}) },
    ...(def.security !== undefined ? { security: def.security } : {}),
  };
}

const spec: CommandSpec = {
  usage:
    'npx tsx tools/snapshot-definition.ts --definition <file|URL> --out <file> [--source <URL>] [--date YYYY-MM-DD]',
  about:
    'Writes a facts-only snapshot of a published definition (the create and the two reads, the schemas they use;\n' +
    'no prose), naming where it came from and when: contract/openapi/<env>.json (docs/drift.md).',
  options: {
    definition: { type: 'string', help: '<file|URL> the published definition' },
    out: { type: 'string', help: '<file> where the snapshot goes, e.g. contract/openapi/prelive.json' },
    source: { type: 'string', help: '<URL> where it was published (required when --definition is a file)' },
    date: { type: 'string', help: '<YYYY-MM-DD> the day it was read (default today)' },
  },
};
const USAGE = `usage: ${spec.usage} (--help for the options)`;

const Args = z
  .object({
    definition: z.string({ error: '--definition <file|URL> is required' }).min(1),
    out: z.string({ error: '--out <file> is required' }).min(1),
    source: z
      .url({ protocol: /^https?$/, error: '--source must be the http(s) URL the definition was published at' })
      .optional(),
    date: z.iso.date({ error: '--date must be a date YYYY-MM-DD' }).optional(),
  })
  .refine((a) => a.source || /^https?:\/\//i.test(a.definition), {
    message: '--source <URL> is required when --definition is a file: name where it was published',
  });

type Args = z.infer<typeof Args>;

/** The arguments, or the lines saying what is wrong with them. */
function readArgs(argv: string[]): Args | string[] {
  const { values } = readCommandLine(spec, argv);
  const parsed = Args.safeParse(values);
  return parsed.success ? parsed.data : parsed.error.issues.map((i) => i.message);
}

async function main(argv: string[]): Promise<number> {
  const a = readArgs(argv);
  if (Array.isArray(a)) {
    for (const line of [...a, USAGE]) process.stderr.write(`${line}\n`);
    return 2;
  }
  const loaded = await loadDefinition(a.definition, 15_000);
  if (!loaded.ok) {
    process.stderr.write(`${loaded.reason}\n`);
    return 2;
  }
  let snapshot: Json;
  try {
    snapshot = snapshotDefinition(
      loaded.definition,
      sourceOf(a.source ?? a.definition, a.date ?? new Date().toISOString().slice(0, 10)),
    );
  } catch (e) {
    if (!(e instanceof DefinitionError)) throw e;
    process.stderr.write(`${a.definition} ${e.message}\n`);
    return 2;
  }
  fs.mkdirSync(path.dirname(path.resolve(a.out)), { recursive: true });
  fs.writeFileSync(a.out, `${JSON.stringify(snapshot, null, 2)}\n`);
  process.stdout.write(
    `${a.out}: ${Object.keys(snapshot.paths as Json).length} paths, from ${a.source ?? a.definition}\n`,
  );
  return 0;
}

if (require.main === module)
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      exitOnUsageError(e, 'snapshot-definition');
      throw e;
    },
  );

/**
 * The secret scanner of the self-tests: looks for known secret values in everything a run leaves
 * behind (files, zips such as trace.zip and the HTML report's embedded data, gzip, base64 blobs
 * inside text) and in its console output. Each secret is searched as is and in the forms that a
 * report or a header might carry it: base64 and base64url at every byte alignment (so that it is
 * found inside `Basic base64(client:secret)` too), URL-encoded and JSON-escaped.
 */
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync, strFromU8, unzipSync } from 'fflate';
import type { SuiteRun } from './fixtures';

export type Secret = { label: string; value: string };
export type Hit = { secret: string; form: string; where: string };
export type ScanReport = {
  /** Files read from disk. */
  files: number;
  /** Things opened inside them: zip entries, gunzipped bodies, decoded base64 blobs. */
  embedded: number;
  bytes: number;
  /** Kinds of container opened, with counts (zip entry, gzip, base64). */
  containers: Record<string, number>;
  hits: Hit[];
  /** Containers that looked like a zip or gzip but could not be opened: coverage gaps. */
  unreadable: string[];
  /** Every path scanned (files and entries, `archive!entry`). */
  scanned: string[];
};

type Needle = { secret: string; form: string; bytes: Buffer };

/** The searchable forms of a secret. Base64 forms keep only the characters the secret alone determines. */
function formsOf(secret: Secret): Needle[] {
  const raw = Buffer.from(secret.value, 'utf8');
  const out: Needle[] = [{ secret: secret.label, form: 'plain', bytes: raw }];
  const add = (form: string, text: string) => {
    if (text.length >= 8 && !out.some((n) => n.bytes.toString('latin1') === text))
      out.push({ secret: secret.label, form, bytes: Buffer.from(text, 'latin1') });
  };
  for (let shift = 0; shift < 3; shift++) {
    const b64 = Buffer.concat([Buffer.alloc(shift), raw]).toString('base64');
    const whole = Math.floor((shift + raw.length) / 3) * 4;
    const inner = b64.slice(shift ? 4 : 0, whole);
    add(`base64 (offset ${shift})`, inner);
    add(`base64url (offset ${shift})`, inner.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  add('url-encoded', encodeURIComponent(secret.value));
  add('json-escaped', JSON.stringify(secret.value).slice(1, -1));
  return out;
}

const isZip = (b: Buffer) => b.length >= 4 && b.readUInt32LE(0) === 0x04034b50;
const isGzip = (b: Buffer) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
/** Base64 runs long enough to hide an archive or a token inside text (JSON attachments, data: URLs). */
const BASE64_RUN = /[A-Za-z0-9+/_-]{200,}={0,2}/g;

export class Scanner {
  readonly report: ScanReport = {
    files: 0,
    embedded: 0,
    bytes: 0,
    containers: {},
    hits: [],
    unreadable: [],
    scanned: [],
  };
  private readonly needles: Needle[];

  constructor(secrets: Secret[]) {
    if (!secrets.length) throw new Error('no secrets to look for: the scan would prove nothing');
    this.needles = secrets.flatMap(formsOf);
  }

  /** Scans files and folders, recursively. */
  scanPath(p: string): this {
    if (!fs.existsSync(p)) return this;
    const stat = fs.statSync(p);
    if (stat.isDirectory()) for (const name of fs.readdirSync(p)) this.scanPath(path.join(p, name));
    else if (stat.isFile()) {
      this.report.files++;
      this.scanBuffer(fs.readFileSync(p), p, 0);
    }
    return this;
  }

  /** Scans a text that is not a file, e.g. the console output of a run. */
  scanText(where: string, text: string): this {
    this.scanBuffer(Buffer.from(text, 'utf8'), where, 0);
    return this;
  }

  private opened(kind: string) {
    this.report.containers[kind] = (this.report.containers[kind] ?? 0) + 1;
    this.report.embedded++;
  }

  private scanBuffer(buf: Buffer, where: string, depth: number): void {
    this.report.bytes += buf.length;
    this.report.scanned.push(where);
    for (const n of this.needles)
      if (
        buf.includes(n.bytes) &&
        !this.report.hits.some((h) => h.where === where && h.secret === n.secret && h.form === n.form)
      )
        this.report.hits.push({ secret: n.secret, form: n.form, where });
    if (depth > 6) return;
    if (isZip(buf)) this.scanInside(where, 'zip entry', depth, () => Object.entries(unzipSync(buf)));
    else if (isGzip(buf)) this.scanInside(where, 'gzip', depth, () => [['gunzip', gunzipSync(buf)]]);
    else this.scanBase64Runs(buf, where, depth);
  }

  /** Text: base64 blobs inside it (the HTML report's data: URL, JSON attachments) are opened too. */
  private scanBase64Runs(buf: Buffer, where: string, depth: number) {
    let i = 0;
    for (const m of buf.toString('latin1').matchAll(BASE64_RUN)) {
      const decoded = Buffer.from(m[0].replace(/-/g, '+').replace(/_/g, '/'), 'base64');
      if (decoded.length < 100) continue;
      this.opened('base64');
      this.scanBuffer(decoded, `${where}!base64#${i++}`, depth + 1);
    }
  }

  private scanInside(where: string, kind: string, depth: number, open: () => [string, Uint8Array][]) {
    let entries: [string, Uint8Array][];
    try {
      entries = open();
    } catch (e) {
      this.report.unreadable.push(`${where}: ${(e as Error).message}`);
      return;
    }
    for (const [name, data] of entries) {
      this.opened(kind);
      this.scanBuffer(Buffer.from(data), `${where}!${name}`, depth + 1);
    }
  }
}

/** Secrets from a QR_SECRETS_LOG file (one a line), labelled by kind. */
export function secretsFromLog(file: string): Secret[] {
  if (!fs.existsSync(file)) return [];
  const values = [
    ...new Set(
      fs
        .readFileSync(file, 'utf8')
        .split('\n')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  return values.map((value, i) => ({ label: `${kindOf(value)} #${i + 1} (${value.slice(0, 6)}…)`, value }));
}

function kindOf(value: string): string {
  if (value.startsWith('eyJ')) return 'access token';
  if (value.startsWith('rt_')) return 'refresh token';
  return 'client secret';
}

/** Scans what a child run left behind (its whole folder: output, HTML report, JSON) and its console. */
export function scanRun(run: SuiteRun, secrets: Secret[]): ScanReport {
  return new Scanner(secrets).scanPath(run.dir).scanText('stdout', run.stdout).scanText('stderr', run.stderr).report;
}

/** The HTML report's embedded data (a zip in a data: URL of index.html): `report.json` and one JSON per test file. */
export function htmlReportData(reportDir: string): Record<string, unknown> {
  const html = fs.readFileSync(path.join(reportDir, 'index.html'), 'utf8');
  const base64 = html.match(/data:application\/zip;base64,([A-Za-z0-9+/=]+)/)?.[1];
  if (!base64) throw new Error(`${reportDir}/index.html embeds no report data`);
  const files = unzipSync(Buffer.from(base64, 'base64'));
  return Object.fromEntries(Object.entries(files).map(([name, data]) => [name, JSON.parse(strFromU8(data))]));
}

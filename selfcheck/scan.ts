/**
 * The secret scanner of the self-tests: looks for known secret values in everything a run leaves
 * behind (files, zips such as trace.zip and the HTML report's embedded data, gzip, base64 blobs
 * inside text) and in its console output. Each secret is searched as is and in the forms that a
 * report or a header might carry it: base64 and base64url at every byte alignment (so that it is
 * found inside `Basic base64(client:secret)` too), URL-encoded and JSON-escaped.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { crc32, deflateRawSync, gunzipSync, inflateRawSync } from 'node:zlib';
import { API_BASE_PATH } from '../reference-api/server';
import type { SuiteRun } from './harness';

export type Secret = { label: string; value: string };
export type Hit = { secret: string; form: string; where: string };
export type ScanReport = {
  /** Files read from disk. */
  files: number;
  /** Things opened inside them: zip entries, gunzipped bodies, decoded base64 blobs. */
  embedded: number;
  bytes: number;
  /** Kinds of container opened, with counts (zip, gzip, base64, html-report). */
  containers: Record<string, number>;
  hits: Hit[];
  /** Containers that looked like a zip or gzip but could not be opened: coverage gaps. */
  unreadable: string[];
  /** Every path scanned (files and entries), for the report. */
  scanned: string[];
};

type Needle = { secret: string; form: string; bytes: Buffer };

/** The searchable forms of a secret. Base64 forms keep only the characters the secret alone determines. */
export function formsOf(secret: Secret): Needle[] {
  const raw = Buffer.from(secret.value, 'utf8');
  const out: Needle[] = [{ secret: secret.label, form: 'plain', bytes: raw }];
  const add = (form: string, text: string) => {
    if (text.length >= 8 && !out.some((n) => n.bytes.toString('latin1') === text)) out.push({ secret: secret.label, form, bytes: Buffer.from(text, 'latin1') });
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

/** Entries of a zip archive (stored or deflated), read through its central directory. */
export function readZip(buf: Buffer): { name: string; data: Buffer }[] {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--)
    if (buf.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  if (eocd < 0) throw new Error('no end of central directory');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || p === 0xffffffff) throw new Error('zip64 is not supported');
  const entries: { name: string; data: Buffer }[] = [];
  for (let n = 0; n < count; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`bad central directory entry ${n}`);
    const method = buf.readUInt16LE(p + 10);
    const size = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString('utf8');
    p += 46 + nameLen + extraLen + commentLen;
    if (buf.readUInt32LE(local) !== 0x04034b50) throw new Error(`bad local header of ${name}`);
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    const body = buf.subarray(start, start + size);
    if (method === 0) entries.push({ name, data: body });
    else if (method === 8) entries.push({ name, data: inflateRawSync(body) });
    else throw new Error(`compression method ${method} of ${name}`);
  }
  return entries;
}

/** A zip of the given entries, deflated (for the scanner's own test). */
export function writeZip(files: { name: string; data: Buffer }[]): Buffer {
  const locals: Buffer[] = [];
  const central: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const name = Buffer.from(f.name);
    const body = deflateRawSync(f.data);
    const crc = crc32(f.data);
    const head = Buffer.alloc(30);
    head.writeUInt32LE(0x04034b50, 0); head.writeUInt16LE(20, 4); head.writeUInt16LE(8, 8);
    head.writeUInt32LE(crc, 14); head.writeUInt32LE(body.length, 18); head.writeUInt32LE(f.data.length, 22); head.writeUInt16LE(name.length, 26);
    const dir = Buffer.alloc(46);
    dir.writeUInt32LE(0x02014b50, 0); dir.writeUInt16LE(20, 4); dir.writeUInt16LE(20, 6); dir.writeUInt16LE(8, 10);
    dir.writeUInt32LE(crc, 16); dir.writeUInt32LE(body.length, 20); dir.writeUInt32LE(f.data.length, 24); dir.writeUInt16LE(name.length, 28);
    dir.writeUInt32LE(offset, 42);
    locals.push(head, name, body);
    central.push(dir, name);
    offset += head.length + name.length + body.length;
  }
  const cd = Buffer.concat(central);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(files.length, 8); end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(cd.length, 12); end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}

const isZip = (b: Buffer) => b.length >= 4 && b.readUInt32LE(0) === 0x04034b50;
const isGzip = (b: Buffer) => b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
/** Base64 runs long enough to hide an archive or a token inside text (JSON attachments, data: URLs). */
const BASE64_RUN = /[A-Za-z0-9+/_-]{200,}={0,2}/g;

export class Scanner {
  readonly report: ScanReport = { files: 0, embedded: 0, bytes: 0, containers: {}, hits: [], unreadable: [], scanned: [] };
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

  private count(kind: string) {
    this.report.containers[kind] = (this.report.containers[kind] ?? 0) + 1;
    this.report.embedded++;
  }

  private scanBuffer(buf: Buffer, where: string, depth: number): void {
    this.report.bytes += buf.length;
    this.report.scanned.push(where);
    for (const n of this.needles)
      if (buf.includes(n.bytes) && !this.report.hits.some((h) => h.where === where && h.secret === n.secret && h.form === n.form))
        this.report.hits.push({ secret: n.secret, form: n.form, where });
    if (depth > 6) return;
    if (isZip(buf)) {
      let entries: { name: string; data: Buffer }[];
      try { entries = readZip(buf); } catch (e) { this.report.unreadable.push(`${where}: ${(e as Error).message}`); return; }
      for (const e of entries) { this.count('zip entry'); this.scanBuffer(e.data, `${where}!${e.name}`, depth + 1); }
      return;
    }
    if (isGzip(buf)) {
      let data: Buffer;
      try { data = gunzipSync(buf); } catch (e) { this.report.unreadable.push(`${where}: ${(e as Error).message}`); return; }
      this.count('gzip');
      return this.scanBuffer(data, `${where}!gunzip`, depth + 1);
    }
    // Text: base64 blobs inside it (the HTML report's data: URL, JSON attachments) are opened too.
    const text = buf.toString('latin1');
    if (text.includes('data:application/zip;base64,')) this.count('html-report data');
    let i = 0;
    for (const m of text.matchAll(BASE64_RUN)) {
      const decoded = Buffer.from(m[0].replace(/-/g, '+').replace(/_/g, '/'), 'base64');
      if (decoded.length < 100) continue;
      this.count('base64');
      this.scanBuffer(decoded, `${where}!base64#${i++}`, depth + 1);
    }
  }
}

/** Secrets from a QR_SECRETS_LOG file (one a line), labelled by kind. */
export function secretsFromLog(file: string): Secret[] {
  if (!fs.existsSync(file)) return [];
  const values = [...new Set(fs.readFileSync(file, 'utf8').split('\n').map((s) => s.trim()).filter(Boolean))];
  return values.map((value, i) => ({ label: `${kindOf(value)} #${i + 1} (${value.slice(0, 6)}…)`, value }));
}

export function kindOf(value: string): string {
  if (value.startsWith('eyJ')) return 'access token';
  if (value.startsWith('rt_')) return 'refresh token';
  return 'client secret';
}

// ---- small helpers shared by the self-tests of issue 4 -----------------------------------------

/** A fresh folder under the system temp dir (owner-only), e.g. for QR_AUTH_DIR or QR_SECRETS_LOG. */
export function tempDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `qr-${label}-`));
}

/** Variables that point a project (LOCAL, PRELIVE, PRODUCTION) at a reference API listening at `origin`. */
export function pointAt(prefix: string, origin: string, credentials: { clientId: string; clientSecret?: string; accessToken?: string; refreshToken?: string }): NodeJS.ProcessEnv {
  return {
    [`${prefix}_API_BASE_URL`]: `${origin}${API_BASE_PATH}`,
    [`${prefix}_OAUTH_BASE_URL`]: origin,
    [`${prefix}_CLIENT_ID`]: credentials.clientId,
    [`${prefix}_CLIENT_SECRET`]: credentials.clientSecret,
    [`${prefix}_ACCESS_TOKEN`]: credentials.accessToken,
    [`${prefix}_REFRESH_TOKEN`]: credentials.refreshToken,
  };
}

/** Scans what a child run left behind (its whole folder: output, HTML report, JSON) and its console. */
export function scanRun(run: SuiteRun, secrets: Secret[]): ScanReport {
  const scanner = new Scanner(secrets).scanPath(path.dirname(run.outputDir));
  scanner.scanText('stdout', run.stdout).scanText('stderr', run.stderr);
  return scanner.report;
}

/** How many times `needle` occurs in the console output of a run. */
export const occurrences = (run: SuiteRun, needle: string) => `${run.stdout}\n${run.stderr}`.split(needle).length - 1;

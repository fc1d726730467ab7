/**
 * The HTTP plumbing shared by the host, the API instances and the identity provider: what a
 * handler answers, how it is encoded, and how it goes on the wire.
 */
import http from 'node:http';

/** What a handler answers, before encoding: `body` is sent as JSON. */
export type Answer = {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Leave the request unanswered: `hang` keeps the connection open, `drop` closes it. */
  cut?: 'hang' | 'drop';
};

/** An answer as it goes on the wire. */
export type Delivery = {
  status: number;
  headers: Record<string, string>;
  body?: Buffer;
  delayMs?: number;
  cut?: 'hang' | 'drop';
};

export type HttpRequest = {
  method: string;
  path: string;
  query: URLSearchParams;
  header: (name: string) => string | undefined;
  raw: Buffer;
  /** When its first bytes (the request line and headers) arrived, in performance.now() time. */
  receivedAt?: number;
};

export const JSON_TYPE = 'application/json; charset=utf-8';

/** The error body other Quran Foundation services send. */
export const errorJson = (status: number) =>
  JSON.stringify({ message: http.STATUS_CODES[status] ?? 'Error', type: 'error', success: false });

/** An answer with its body as JSON, as is: no error body is added. */
export function encode(answer: Answer): Delivery {
  const headers = { ...answer.headers };
  if (answer.body === undefined) return { status: answer.status, headers, cut: answer.cut };
  headers['content-type'] ??= JSON_TYPE;
  return { status: answer.status, headers, body: Buffer.from(JSON.stringify(answer.body)), cut: answer.cut };
}

/** An answer of the host itself (not of an API instance): an error without a body gets the JSON one. */
export function encodePlain(answer: Answer): Delivery {
  if (answer.body !== undefined || answer.status < 400) return encode(answer);
  const headers = { ...answer.headers, 'content-type': JSON_TYPE };
  return { ...encode(answer), headers, body: Buffer.from(errorJson(answer.status)) };
}

export function readRequest(req: http.IncomingMessage, raw: Buffer, receivedAt?: number): HttpRequest {
  const url = new URL(req.url ?? '/', 'http://reference.invalid');
  const header = (name: string) => {
    const value = req.headers[name.toLowerCase()];
    return (Array.isArray(value) ? value[0] : value) || undefined;
  };
  return { method: req.method ?? 'GET', path: url.pathname, query: url.searchParams, header, raw, receivedAt };
}

export function send(req: http.IncomingMessage, res: http.ServerResponse, delivery: Delivery): void {
  if (delivery.cut === 'hang') return;
  if (delivery.cut === 'drop') return void req.socket.destroy();
  const write = () => {
    res.writeHead(delivery.status, delivery.headers);
    res.end(delivery.body);
  };
  if (delivery.delayMs) setTimeout(write, delivery.delayMs);
  else write();
}

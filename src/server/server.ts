// A read-only JSON HTTP API over a replayed store (node:http, no framework).
//
//   GET /openapi.json            the OpenAPI 3.1 document of this API (docs/openapi.json)
//   GET /healthz                 {status, generation, finalizedHeight, blocks}
//   GET /summary                 the replay summary (SPEC 7.2, without the run fields)
//   GET /blocks/:idOrHeight      one block (a height names the finalized block there), as `inspect --json`
//   GET /blocks/:idOrHeight/state the protocol state after the block (KV store, epoch state, epoch events)
//   GET /heights/:h              every block at a height, forks included
//   GET /versions[?height=H]     the version map and beacon findings, or the versions in force at H
//   GET /bootstrap-check?binary=X[&supports=..][&overrides=..][&from=H][&to=H]   SPEC 5.4 JSON
//
// Bad parameters: 400 {error}; unknown block or route: 404; other methods: 405. Handlers are
// synchronous and wrapped: bad input never produces a 5xx. Answers are cached per replay
// generation (`meta.replayGeneration`, read per request), so a replay in another process that
// bumps it invalidates them; an import in another process is seen by the next request (LMDB MVCC).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { readFileSync } from 'node:fs';
import { BlockStore } from '../store/store.js';
import { jsonText, Lru, NotFoundError, parseBlockSpec, parseHeight, parseList, QueryInputError, StoreQuery, type BootstrapParams } from '../query/query.js';

export interface ServerOptions {
  port?: number;
  host?: string;
  /** Cached answers (0 disables the cache). Default 8192. */
  cacheEntries?: number;
  /** Called with each internal error (a bug, never bad input); default: stderr. */
  onError?: (e: unknown, url: string) => void;
  /**
   * Open connections at most (default 1000, far below the usual file-descriptor limit). A
   * connection beyond it closes the oldest idle one; when none is idle it is refused.
   */
  maxConnections?: number;
  /** A connection with no request in progress is closed after this long (ms, default 10 s). */
  idleTimeoutMs?: number;
  /** A request's headers must arrive within this long of its first byte (ms, default 5 s). */
  headersTimeoutMs?: number;
  /** `Access-Control-Allow-Origin` for every answer; none by default (same-origin only). */
  corsOrigin?: string | null;
}

export const SERVER_DEFAULTS = { maxConnections: 1000, idleTimeoutMs: 10_000, headersTimeoutMs: 5_000 } as const;

/** Headers of every answer: JSON never sniffed as something else. */
const SAFE_HEADERS = { 'X-Content-Type-Options': 'nosniff' } as const;

export interface RunningServer {
  server: Server;
  query: StoreQuery;
  url: string;
  port: number;
  host: string;
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

interface Answer {
  status: number;
  /** JSON, encoded once (cached answers are written as they are). */
  body: Buffer;
  /** Only complete answers of the current generation are cached. */
  cacheable: boolean;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const MAX_URL = 4096;

/** Routes a request URL to an answer. Exported for tests; never throws for bad input. */
export class Api {
  private readonly cache: Lru<string, Answer> | null;
  private cacheGeneration = -1;

  constructor(
    readonly query: StoreQuery,
    cacheEntries = 8192,
    private readonly onError: (e: unknown, url: string) => void = defaultOnError,
  ) {
    this.cache = cacheEntries > 0 ? new Lru(cacheEntries) : null;
  }

  /** Builds what can be built ahead: the chain index and the summary. */
  warm(): void {
    this.query.chain();
    this.query.summary();
  }

  handle(method: string | undefined, rawUrl: string | undefined): Answer & { headers?: Record<string, string> } {
    const url = rawUrl ?? '/';
    try {
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, `method ${method} not allowed (GET or HEAD)`, { Allow: 'GET, HEAD' });
      if (url.length > MAX_URL) throw new HttpError(414, 'URL too long');
      const generation = this.query.generation();
      if (this.cache !== null) {
        if (generation !== this.cacheGeneration) {
          this.cache.clear();
          this.cacheGeneration = generation;
        }
        const hit = this.cache.get(url);
        if (hit !== undefined) return hit;
      }
      const answer = this.route(url);
      if (this.cache !== null && answer.cacheable && this.query.generation() === generation) this.cache.set(url, answer);
      return answer;
    } catch (e) {
      if (e instanceof HttpError) return { status: e.status, body: errorBody(e.message), cacheable: false, headers: e.headers };
      if (e instanceof QueryInputError) return { status: 400, body: errorBody(e.message), cacheable: false };
      if (e instanceof NotFoundError) return { status: 404, body: errorBody(e.message), cacheable: false };
      if (e instanceof URIError) return { status: 400, body: errorBody(`malformed percent-encoding in ${clip(url)}`), cacheable: false };
      this.onError(e, url);
      return { status: 500, body: errorBody('internal error'), cacheable: false };
    }
  }

  private route(url: string): Answer {
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const params = parseQuery(q < 0 ? '' : url.slice(q + 1));
    if (!rawPath.startsWith('/')) throw new HttpError(400, `request target ${clip(url)} is not an origin-form path`);
    const segments = rawPath
      .split('/')
      .slice(1)
      .map((s) => decodeURIComponent(s));
    while (segments.length > 1 && segments[segments.length - 1] === '') segments.pop();
    const [head, a, b, ...rest] = segments;
    const none = (allowed: string[] = []) => onlyParams(params, allowed);
    if (rest.length === 0) {
      switch (head) {
        case '':
          if (a === undefined) {
            none();
            return ok({ routes: ROUTES });
          }
          break;
        case 'openapi.json':
          if (a === undefined) {
            none();
            return { status: 200, body: openApiDocument(), cacheable: false };
          }
          break;
        case 'healthz':
          if (a === undefined) {
            none();
            const c = this.query.chain();
            return ok({ status: 'ok', generation: c.generation, finalizedHeight: c.finalizedHeight, blocks: c.results }, false);
          }
          break;
        case 'summary':
          if (a === undefined) {
            none();
            return ok(this.query.summary());
          }
          break;
        case 'blocks':
          if (a !== undefined && a !== '' && (b === undefined || b === 'state')) {
            none();
            const [id] = this.query.resolve(parseBlockSpec(a));
            if (b === 'state') return ok(this.query.state(id!));
            const view = this.query.inspect(id!);
            return ok(view, view.evaluated);
          }
          break;
        case 'heights':
          if (a !== undefined && a !== '' && b === undefined) {
            none();
            const height = parseHeight(a);
            const ids = this.query.resolve({ kind: 'height', height }, true);
            const blocks = ids.map((id) => this.query.inspect(id));
            return ok(
              { height, blocks },
              blocks.every((x) => x.evaluated),
            );
          }
          break;
        case 'versions':
          if (a === undefined) {
            none(['height']);
            const h = params.get('height');
            return ok(this.query.versions(h === undefined ? undefined : parseHeight(h)));
          }
          break;
        case 'bootstrap-check':
          if (a === undefined) {
            none(['binary', 'supports', 'overrides', 'from', 'to']);
            const binary = params.get('binary');
            if (binary === undefined || binary === '') throw new QueryInputError("parameter binary is required (the binary's version, e.g. binary=0.38.1)");
            const p: BootstrapParams = {
              binary,
              supports: params.has('supports') ? parseList(params.get('supports')!) : null,
              overrides: params.has('overrides') ? parseList(params.get('overrides')!) : null,
              from: params.has('from') ? parseHeight(params.get('from')!, 'from') : null,
              to: params.has('to') ? parseHeight(params.get('to')!, 'to') : null,
            };
            return ok(this.query.bootstrap(p));
          }
          break;
      }
    }
    throw new HttpError(404, `no route ${clip(rawPath)} (GET / lists the routes)`);
  }
}

export const ROUTES = [
  '/openapi.json',
  '/healthz',
  '/summary',
  '/blocks/:idOrHeight',
  '/blocks/:idOrHeight/state',
  '/heights/:height',
  '/versions[?height=H]',
  '/bootstrap-check?binary=X[&supports=M.m,...][&overrides=M.m.p,...][&from=H][&to=H]',
];

// docs/openapi.json, found from the installed package (dist/src/server/ -> docs/), read once.
let openApi: Buffer | null = null;
function openApiDocument(): Buffer {
  openApi ??= readFileSync(new URL('../../../docs/openapi.json', import.meta.url));
  return openApi;
}

function ok(v: unknown, cacheable = true): Answer {
  return { status: 200, body: Buffer.from(jsonText(v)), cacheable };
}

function errorBody(message: string): Buffer {
  return Buffer.from(jsonText({ error: message }));
}

function clip(s: string): string {
  return JSON.stringify(s.length > 100 ? s.slice(0, 97) + '...' : s);
}

function defaultOnError(e: unknown, url: string): void {
  process.stderr.write(`spork-replay serve: internal error on ${clip(url)}: ${e instanceof Error ? e.stack : String(e)}\n`);
}

/** Strict query string: each parameter once, valid percent-encoding (`+` is a space). */
function parseQuery(s: string): Map<string, string> {
  const out = new Map<string, string>();
  if (s === '') return out;
  for (const part of s.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = decodeURIComponent((eq < 0 ? part : part.slice(0, eq)).replace(/\+/g, ' '));
    const v = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1).replace(/\+/g, ' '));
    if (out.has(k)) throw new QueryInputError(`parameter ${clip(k)} given twice`);
    out.set(k, v);
  }
  return out;
}

function onlyParams(params: Map<string, string>, allowed: string[]): void {
  for (const k of params.keys()) {
    if (!allowed.includes(k)) {
      throw new QueryInputError(
        allowed.length === 0 ? `unknown parameter ${clip(k)} (this route takes none)` : `unknown parameter ${clip(k)} (allowed: ${allowed.join(', ')})`,
      );
    }
  }
}

/** Starts the server on an open store (opened read-only by the caller for `serve`). */
export async function startServer(store: BlockStore, opts: ServerOptions = {}): Promise<RunningServer> {
  const query = new StoreQuery(store);
  const api = new Api(query, opts.cacheEntries ?? 8192, opts.onError);
  api.warm();
  const headersTimeout = opts.headersTimeoutMs ?? SERVER_DEFAULTS.headersTimeoutMs;
  const idleTimeout = opts.idleTimeoutMs ?? SERVER_DEFAULTS.idleTimeoutMs;
  const common: Record<string, string> = { ...SAFE_HEADERS };
  if (opts.corsOrigin) {
    common['Access-Control-Allow-Origin'] = opts.corsOrigin;
    if (opts.corsOrigin !== '*') common.Vary = 'Origin';
  }
  const server = createServer(
    {
      keepAliveTimeout: Math.min(5000, idleTimeout),
      headersTimeout,
      requestTimeout: headersTimeout + 5000,
      // how often header and request timeouts are checked (Node's default is 30 s)
      connectionsCheckingInterval: Math.max(100, Math.min(1000, headersTimeout / 2)),
    },
    (req: IncomingMessage, res: ServerResponse) => {
      req.on('error', () => {});
      res.on('error', () => {});
      const done = connections.busy(req.socket);
      res.on('close', done);
      const a = api.handle(req.method, req.url);
      const headers: Record<string, string | number> = {
        'Content-Type': JSON_TYPE,
        'Content-Length': a.body.length,
        'Cache-Control': 'no-store',
        ...common,
        ...(a as { headers?: Record<string, string> }).headers,
      };
      res.writeHead(a.status, headers);
      res.end(req.method === 'HEAD' ? undefined : a.body);
    },
  );
  const connections = new Connections(opts.maxConnections ?? SERVER_DEFAULTS.maxConnections, idleTimeout);
  server.on('connection', (socket: Socket) => connections.add(socket));
  // CONNECT is not a request node:http hands to the handler: without a listener the socket is dropped.
  server.on('connect', (_req: IncomingMessage, socket: Duplex) => {
    const body = errorBody('method CONNECT not allowed (GET or HEAD)');
    socket.on('error', () => {});
    socket.end(
      `HTTP/1.1 405 Method Not Allowed\r\nAllow: GET, HEAD\r\nContent-Type: ${JSON_TYPE}\r\nContent-Length: ${body.length}\r\n${rawHeaders(common)}Connection: close\r\n\r\n${body.toString()}`,
      () => socket.destroy(),
    );
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // a request that timed out waiting for its headers gets 408, anything unparsable 400
    const timedOut = err.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    const body = timedOut ? '{"error":"request timeout"}\r\n' : '{"error":"bad request"}\r\n';
    // destroyed once written: a client that does not read would keep a half-closed socket open
    if (socket.writable) {
      socket.end(
        `HTTP/1.1 ${timedOut ? '408 Request Timeout' : '400 Bad Request'}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n${rawHeaders(common)}Connection: close\r\n\r\n${body}`,
        () => socket.destroy(),
      );
    } else socket.destroy();
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | null = null;
  return {
    server,
    query,
    url: `http://${shownHost}:${port}`,
    port,
    host,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 1000).unref();
      });
      return closing;
    },
  };
}

function rawHeaders(h: Record<string, string>): string {
  return Object.entries(h)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
}

/**
 * The open connections, oldest first. A connection silent for `idleMs` is closed (a client that
 * connects and sends nothing, or keeps an idle keep-alive connection); past `max` connections
 * the oldest one without a request in progress is closed to make room, so idle sockets can
 * neither lock other clients out nor use up the process's file descriptors.
 */
class Connections {
  private readonly open = new Set<Socket>();
  private readonly active = new Map<Socket, number>();

  constructor(
    private readonly max: number,
    private readonly idleMs: number,
  ) {}

  add(socket: Socket): void {
    socket.on('error', () => {});
    this.open.add(socket);
    socket.once('close', () => {
      this.open.delete(socket);
      this.active.delete(socket);
    });
    socket.setTimeout(this.idleMs, () => socket.destroy());
    if (this.open.size > this.max) this.makeRoom(socket);
  }

  /** Marks a request in progress on `socket`; returns the function that ends it. */
  busy(socket: Socket): () => void {
    this.active.set(socket, (this.active.get(socket) ?? 0) + 1);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const n = (this.active.get(socket) ?? 1) - 1;
      if (n > 0) this.active.set(socket, n);
      else this.active.delete(socket);
    };
  }

  private makeRoom(newcomer: Socket): void {
    for (const s of this.open) {
      if (s === newcomer) break;
      if (!this.active.has(s)) {
        s.destroy();
        return;
      }
    }
    newcomer.destroy();
  }
}

/** Opens a store read-only (safe while another process imports or replays into it). */
export function openReadOnly(dir: string): BlockStore {
  return BlockStore.open(dir, { readOnly: true });
}

// Malformed-request fuzzing for the HTTP API (used by bench/http.ts and the server tests):
// random paths, bad hex, huge and negative numbers, bad query parameters, invalid
// percent-encoding and odd methods, sent as raw HTTP/1.1 over a socket so nothing is
// normalised on the way. The contract: no answer is a 5xx.
import { connect } from 'node:net';
import { Rng } from '../src/synth/rng.js';

export interface FuzzRequest {
  method: string;
  target: string;
}

export interface FuzzOutcome {
  total: number;
  /** Count per status code ("none" when the server closed without answering). */
  byStatus: Record<string, number>;
  serverErrors: number;
  noResponse: number;
  /** A few requests that got a 5xx, for the report. */
  serverErrorExamples: string[];
}

/** A seeded float source in [0, 1). */
function rng(seed: number): () => number {
  const r = new Rng(seed);
  return () => r.float();
}

const HEX = '0123456789abcdef';

/** Makes `n` malformed (or borderline) requests; `known` adds real ids/heights to mutate. */
export function fuzzRequests(n: number, seed = 1, known: { ids?: string[]; heights?: number[] } = {}): FuzzRequest[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));
  const hex = (len: number) => Array.from({ length: len }, () => HEX[int(0, 15)]).join('');
  const ids = known.ids?.length ? known.ids : [hex(64)];
  const heights = known.heights?.length ? known.heights : [0, 1, 1000];
  const badNumbers = [
    '-1',
    '-0',
    '+5',
    '1e3',
    '0x10',
    '1.5',
    '',
    ' 1',
    '1 ',
    '٣',
    '１',
    'NaN',
    'Infinity',
    '00000000000000000000000001',
    '18446744073709551615',
    '18446744073709551616',
    '99999999999999999999999999999999',
    String(2 ** 53),
    String(2 ** 53 + 1),
    '9'.repeat(400),
    '-18446744073709551616',
    '0',
    '%31',
    '1%00',
    '1/',
    '1;',
    '1,2',
  ];
  const badHex = () =>
    pick([
      hex(63),
      hex(65),
      hex(62) + 'zz',
      hex(64).toUpperCase(),
      'g'.repeat(64),
      hex(64) + '/',
      '0x' + hex(64),
      hex(128),
      hex(32),
      pick(ids).slice(0, 63),
      pick(ids) + '0',
      pick(ids).replace(/[0-9]/, 'x'),
      encodeURIComponent(pick(ids)).replace(/a/g, '%61'),
    ]);
  const badPercent = () => pick(['%', '%g0', '%0', '%E0%A4%A', '%C0%AF', '%FF%FE', '%ED%A0%80', '%%', '%u0041', '%2', '%zz%zz', '%00']);
  const badValue = () => pick([...badNumbers, badPercent(), 'v1.0+meta', '1..2', 'x', '1,,2', ',', 'a'.repeat(3000), '1.0.0-', '\u00e9']);
  const segment = () =>
    pick([
      'blocks',
      'heights',
      'versions',
      'bootstrap-check',
      'summary',
      'healthz',
      'state',
      '',
      '.',
      '..',
      'BLOCKS',
      'blocks ',
      badHex(),
      pick(badNumbers),
      badPercent(),
      hex(int(1, 80)),
      'x'.repeat(int(1, 5000)),
      '\u2603',
      '%2F',
      '%2e%2e',
    ]);
  const encodeLoose = (s: string) => s.replace(/[^\x21-\x7e]/g, (c) => encodeURIComponent(c));
  const query = () => {
    const keys = ['height', 'binary', 'supports', 'overrides', 'from', 'to', 'x', '', badPercent(), 'height'];
    const parts: string[] = [];
    for (let i = int(1, 4); i > 0; i--) {
      const k = pick(keys);
      const form = int(0, 3);
      parts.push(form === 0 ? k : form === 1 ? `${k}=` : `${k}=${encodeLoose(badValue())}`);
    }
    return '?' + parts.join(pick(['&', '&&', ';', '&=&']));
  };
  const templates: (() => string)[] = [
    () => `/blocks/${encodeLoose(badHex())}`,
    () => `/blocks/${encodeLoose(pick(badNumbers))}`,
    () => `/blocks/${badPercent()}`,
    () => `/blocks/${pick(ids)}/${encodeLoose(segment())}`,
    () => `/blocks/${encodeLoose(pick(badNumbers))}/state`,
    () => `/blocks/${pick(heights) + int(-3, 1_000_000)}`,
    () => `/heights/${encodeLoose(pick(badNumbers))}`,
    () => `/heights/${badPercent()}`,
    () => `/heights/${pick(heights) + int(-3, 1_000_000)}/x`,
    () => `/versions${query()}`,
    () => `/versions?height=${encodeLoose(pick(badNumbers))}`,
    () => `/bootstrap-check${query()}`,
    () => `/bootstrap-check?binary=${encodeLoose(badValue())}&supports=${encodeLoose(badValue())}`,
    () => `/bootstrap-check?binary=1.0.0&from=${encodeLoose(pick(badNumbers))}&to=${encodeLoose(pick(badNumbers))}`,
    () => `/bootstrap-check?binary=1.0.0&overrides=${encodeLoose(badValue())}`,
    () => `/summary${query()}`,
    () => `/healthz/${encodeLoose(segment())}`,
    () => '/' + Array.from({ length: int(1, 6) }, () => encodeLoose(segment())).join('/'),
    () => '/' + Array.from({ length: int(1, 40) }, () => String.fromCharCode(int(0x21, 0x7e))).join(''),
    () => pick(['*', 'http://127.0.0.1/summary', '//summary', '/\\summary', 'summary', '/blocks//state', '/%2e%2e/summary']),
  ];
  const methods = ['GET', 'GET', 'GET', 'GET', 'GET', 'GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'CONNECT', 'FOO'];
  const out: FuzzRequest[] = [];
  for (let i = 0; i < n; i++) out.push({ method: pick(methods), target: pick(templates)() });
  return out;
}

/** Sends one raw HTTP/1.1 request; resolves with the status code, or null when the server closed without one. */
export function sendRaw(host: string, port: number, req: FuzzRequest, timeoutMs = 5000): Promise<number | null> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let data = '';
    let done = false;
    const finish = (status: number | null) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve(status);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    socket.setEncoding('latin1');
    socket.on('connect', () => {
      socket.write(
        `${req.method} ${req.target} HTTP/1.1\r\nHost: ${host}:${port}\r\nConnection: close\r\n${req.method === 'POST' || req.method === 'PUT' ? 'Content-Length: 2\r\n\r\n{}' : '\r\n'}`,
        'latin1',
      );
    });
    socket.on('data', (chunk: string) => {
      data += chunk;
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      if (m) {
        clearTimeout(timer);
        finish(Number(m[1]));
      } else if (data.length > 64) {
        clearTimeout(timer);
        finish(null);
      }
    });
    socket.on('error', () => {
      clearTimeout(timer);
      finish(null);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      finish(null);
    });
  });
}

/** Sends the requests with bounded concurrency and tallies the answers. */
export async function runFuzz(host: string, port: number, requests: FuzzRequest[], concurrency = 16): Promise<FuzzOutcome> {
  const out: FuzzOutcome = { total: requests.length, byStatus: {}, serverErrors: 0, noResponse: 0, serverErrorExamples: [] };
  let next = 0;
  const worker = async () => {
    while (next < requests.length) {
      const req = requests[next++]!;
      const status = await sendRaw(host, port, req);
      const key = status === null ? 'none' : String(status);
      out.byStatus[key] = (out.byStatus[key] ?? 0) + 1;
      if (status === null) out.noResponse++;
      else if (status >= 500) {
        out.serverErrors++;
        if (out.serverErrorExamples.length < 10) out.serverErrorExamples.push(`${status} ${req.method} ${req.target.slice(0, 200)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, requests.length) }, worker));
  return out;
}

// ACCESS.md 6.6 "Retries": which gRPC failures of an Access node are retried, and how long to
// wait. One table, used by every call the fetch makes.
import { status, type ServiceError } from '@grpc/grpc-js';
import { isClientReceiveLimit } from './grpc.js';

export type CallKind = 'block' | 'snapshot' | 'probe' | 'stream';

export type Decision = { action: 'retry'; why: string } | { action: 'stop'; why: string; hint?: string };

export interface RetryPolicy {
  /** First backoff (ms); doubles per failure up to `maxMs`, full jitter. */
  baseMs: number;
  maxMs: number;
  /** A call that fails this many times in a row stops the fetch. */
  attempts: number;
  /** Deadline of one call (ms). */
  deadlineMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { baseMs: 500, maxMs: 30_000, attempts: 10, deadlineMs: 60_000 };

export function isServiceError(e: unknown): e is ServiceError {
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'number' && 'details' in e;
}

export function codeName(code: number): string {
  return (status as unknown as Record<number, string>)[code] ?? `code ${code}`;
}

/** The 6.6 table, except NOT_FOUND on block calls, which depends on the head (see fetch.ts). */
export function classify(e: unknown, kind: CallKind): Decision {
  if (!isServiceError(e)) return { action: 'stop', why: e instanceof Error ? e.message : String(e) };
  const what = `${codeName(e.code)}: ${e.details || e.message}`;
  switch (e.code) {
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED:
      return { action: 'retry', why: what };
    case status.RESOURCE_EXHAUSTED:
      if (isClientReceiveLimit(e)) return { action: 'stop', why: what, hint: 'a response is larger than the receive limit: raise it with --max-message-mb' };
      return { action: 'retry', why: what };
    case status.INTERNAL:
      if (kind === 'snapshot')
        return { action: 'stop', why: what, hint: 'the node cannot build the root snapshot: give the published one with --root-snapshot FILE' };
      return { action: 'retry', why: what };
    case status.UNIMPLEMENTED:
      if (kind === 'snapshot') return { action: 'stop', why: what, hint: 'give the published root snapshot with --root-snapshot FILE' };
      return { action: 'stop', why: what };
    default:
      return { action: 'stop', why: what };
  }
}

/** Full-jitter exponential backoff: a uniform wait in [0, min(max, base * 2^failures)). */
export function backoffMs(policy: RetryPolicy, failures: number, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(failures, 30));
  return Math.floor(random() * cap);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

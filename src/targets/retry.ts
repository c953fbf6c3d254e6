/**
 * Retries with exponential backoff and full jitter for transient failures. Only idempotent steps
 * are retried; the caller decides which errors are transient.
 */
export interface RetryOptions {
  readonly retries: number;
  /** First delay in ms (doubled each time, randomized by jitter). */
  readonly baseMs?: number;
  readonly maxMs?: number;
  /** Whether `err` is worth another try. */
  readonly transient: (err: unknown) => boolean;
  /** A delay the server asked for (Retry-After), in ms. */
  readonly retryAfterMs?: (err: unknown) => number | undefined;
}

export async function withRetry<T>(op: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const base = options.baseMs ?? 500;
  const max = options.maxMs ?? 10_000;
  for (let attempt = 0; ; attempt++) {
    try {
      return await op(attempt);
    } catch (err) {
      if (attempt >= options.retries || !options.transient(err)) throw err;
      const asked = options.retryAfterMs?.(err);
      const delay = asked ?? Math.random() * Math.min(max, base * 2 ** attempt);
      await new Promise((r) => setTimeout(r, Math.min(delay, max)));
    }
  }
}

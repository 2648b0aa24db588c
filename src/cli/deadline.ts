// Every wait of a CLI command on the network or a device has a deadline and says what it waited for
// (issue 12 §5): `submit` with no broker, `console` on a port that never opens.

/** Resolves as `promise` does, or rejects after `ms` with the message `why()` gives then. 0: no deadline. */
export function withDeadline<T>(promise: Promise<T>, ms: number, why: () => string): Promise<T> {
  if (ms === 0) return promise;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(why())), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

// A real logger whose records a test reads back, to assert what a part noticed and in what order.
import { Writable } from 'node:stream';
import { type Logger, createLogger } from '../../src/observability/logger.js';

/** A real (pino) logger at info whose JSON records are kept in `records`, in order. */
export function recordingLogger(name: string): { log: Logger; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') records.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger({ name, level: 'info', pretty: false, destination }), records };
}

// A log file for the loggers inside the demo process. Writes are synchronous (nothing is lost when the
// process ends) and writes after close are dropped instead of failing on a closed descriptor, since a
// late callback (a link error while shutting down) may still log.
import { closeSync, openSync, writeSync } from 'node:fs';
import { Writable } from 'node:stream';

export interface LogFile {
  stream: Writable;
  close(): void;
}

export function openLogFile(path: string): LogFile {
  let fd: number | null = openSync(path, 'a');
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      if (fd !== null) {
        if (typeof chunk === 'string') writeSync(fd, chunk);
        else writeSync(fd, chunk);
      }
      callback();
    },
  });
  return {
    stream,
    close() {
      if (fd === null) return;
      closeSync(fd);
      fd = null;
    },
  };
}

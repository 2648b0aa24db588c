// serialport's own binding, with one repair: on Linux and macOS a read that returns 0 bytes means the
// tty was hung up (a USB adapter unplugged, a PTY whose other side closed). bindings-cpp 13 reads again
// at once, for ever (serialport/bindings-cpp#162), so the stream never reports the loss, nothing
// reopens the device, and a thread-pool thread spins. Here such a read fails as a disconnect, which the
// stream turns into its 'close' event with the error, as for any other lost device.
import { read as fsRead } from 'node:fs';
import { promisify } from 'node:util';
// The package's "exports" give types only to require(); its declarations are the same for both.
import type {
  BindingInterface,
  BindingPortInterface,
  OpenOptions,
  PortStatus,
  SetOptions,
  UpdateOptions,
} from '@serialport/bindings-interface' with { 'resolution-mode': 'require' };

const readAsync = promisify(fsRead);

/** What the Unix port bindings of bindings-cpp (LinuxPortBinding, DarwinPortBinding) expose beyond the interface. */
interface UnixPortBinding extends BindingPortInterface {
  fd: number | null;
  readonly poller: { once(event: 'readable', callback: (err: Error | null) => void): unknown };
}

function isUnixPort(port: BindingPortInterface): port is UnixPortBinding {
  const p = port as Partial<UnixPortBinding>;
  return 'fd' in port && typeof p.poller?.once === 'function';
}

/** The error the stream ends a read with when the port was closed under it: not a disconnect. */
function canceled(message: string): Error {
  return Object.assign(new Error(message), { canceled: true });
}

/** Codes that mean "nothing to read yet": wait until the descriptor is readable. */
const RETRY_CODES = new Set(['EAGAIN', 'EWOULDBLOCK', 'EINTR']);

/** The hung-up tty: what the stream reports as the port's disconnect error. */
export class SerialHangupError extends Error {
  readonly disconnect = true;
  readonly code = 'EHANGUP';
  constructor(path: string) {
    super(`${path} hung up (the device went away or the other end closed)`);
    this.name = 'SerialHangupError';
  }
}

class HangupAwarePort implements BindingPortInterface {
  constructor(private readonly inner: UnixPortBinding, private readonly path: string) {}

  get openOptions(): Required<OpenOptions> {
    return this.inner.openOptions;
  }

  get isOpen(): boolean {
    return this.inner.isOpen;
  }

  async read(buffer: Buffer, offset: number, length: number): Promise<{ buffer: Buffer; bytesRead: number }> {
    for (;;) {
      const fd = this.inner.fd;
      if (fd === null) throw canceled('Port is not open');
      let bytesRead: number;
      try {
        ({ bytesRead } = await readAsync(fd, buffer, offset, length, null));
      } catch (err) {
        if (!RETRY_CODES.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
        if (this.inner.fd === null) throw canceled('Port is not open');
        await new Promise<void>((resolve, reject) => this.inner.poller.once('readable', (e) => (e ? reject(e) : resolve())));
        continue;
      }
      if (bytesRead === 0) throw new SerialHangupError(this.path);
      return { buffer, bytesRead };
    }
  }

  close(): Promise<void> { return this.inner.close(); }
  write(buffer: Buffer): Promise<void> { return this.inner.write(buffer); }
  update(options: UpdateOptions): Promise<void> { return this.inner.update(options); }
  set(options: SetOptions): Promise<void> { return this.inner.set(options); }
  get(): Promise<PortStatus> { return this.inner.get(); }
  getBaudRate(): Promise<{ baudRate: number }> { return this.inner.getBaudRate(); }
  flush(): Promise<void> { return this.inner.flush(); }
  drain(): Promise<void> { return this.inner.drain(); }
}

/** `base` with hung-up ttys reported as disconnects; ports that are not Unix descriptors pass as they are. */
export function hangupAwareBinding(base: BindingInterface): BindingInterface {
  return {
    list: () => base.list(),
    open: async (options: OpenOptions) => {
      const port = await base.open(options);
      return isUnixPort(port) ? new HangupAwarePort(port, options.path) : port;
    },
  };
}

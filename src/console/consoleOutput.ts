// The board's serial console, output side: status and log lines written to a UART (a PTY in
// emulation). It never holds the peer back: a line that finds the port closed (unplugged, not there
// yet) or the queue full (a slow line) is dropped and counted; the next status line says it all again.
import { consoleDefaults } from './consoleDefaults.js';
import { ManagedSerialPort, type PortFactory } from '../transport/serial/managedPort.js';
import type { SerialPortSpec } from '../transport/serial/serialEndpoint.js';

export interface ConsoleOutputOptions {
  port: SerialPortSpec;
  /** Called whenever the port (re)opens: a good moment to say everything again. */
  onOpen?: () => void;
  onError?: (error: Error) => void;
  portFactory?: PortFactory;
  maxQueuedBytes?: number;
}

export class ConsoleOutput {
  readonly path: string;
  /** Lines not written because the port was closed or too slow. */
  droppedLines = 0;
  private readonly port: ManagedSerialPort;
  private lastWrite: Promise<void> = Promise.resolve();

  constructor(o: ConsoleOutputOptions) {
    this.path = o.port.path;
    this.port = new ManagedSerialPort({
      port: o.port,
      // Nothing is read from the console yet; bytes typed at it are discarded.
      onData: () => undefined,
      onState: (s) => { if (s === 'open') o.onOpen?.(); },
      onError: o.onError,
      portFactory: o.portFactory,
      maxQueuedWriteBytes: o.maxQueuedBytes ?? consoleDefaults.maxQueuedBytes,
    });
  }

  get isOpen(): boolean {
    return this.port.state === 'open';
  }

  start(): void {
    this.port.start();
  }

  /** Queues one line (CRLF added, as serial terminals expect); never throws. */
  writeLine(line: string): void {
    this.lastWrite = this.port.write(Buffer.from(`${line}\r\n`, 'utf8')).catch(() => {
      this.droppedLines += 1;
    });
  }

  /** Writes what is queued (for at most consoleDefaults.closeFlushTimeoutMs), then closes the port. */
  async close(): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([this.lastWrite, new Promise<void>((resolve) => { timer = setTimeout(resolve, consoleDefaults.closeFlushTimeoutMs); })]);
    clearTimeout(timer);
    await this.port.close();
  }
}

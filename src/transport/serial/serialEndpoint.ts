// How an operator names a serial port: `PATH[@BAUD]` (orderer --serial, peer --console) or, among the
// orderer endpoints of a board, `serial:PATH[@BAUD]`.
import { serialDefaults } from './serialDefaults.js';

export const SERIAL_SCHEME = 'serial:';

/** The range of rates accepted (serialport passes custom rates to the driver, best effort). */
const MIN_BAUD = 50;
const MAX_BAUD = 4_000_000;

export interface SerialPortSpec {
  path: string;
  baudRate: number;
}

export class SerialEndpointError extends Error {
  override name = 'SerialEndpointError';
}

/** `PATH[@BAUD]`; the baud rate defaults to `defaultBaud`. An `@` not followed by digits belongs to the path. */
export function parsePortSpec(spec: string, defaultBaud: number = serialDefaults.baudRate): SerialPortSpec {
  const at = spec.lastIndexOf('@');
  let path = spec;
  let baudRate = defaultBaud;
  if (at >= 0 && /^[0-9]+$/.test(spec.slice(at + 1))) {
    path = spec.slice(0, at);
    baudRate = Number(spec.slice(at + 1));
    if (!Number.isSafeInteger(baudRate) || baudRate < MIN_BAUD || baudRate > MAX_BAUD) {
      throw new SerialEndpointError(`baud rate ${spec.slice(at + 1)} in '${spec}' is outside ${MIN_BAUD}..${MAX_BAUD}`);
    }
  } else if (at === spec.length - 1) {
    throw new SerialEndpointError(`'${spec}' ends in '@' without a baud rate (expected PATH@BAUD, e.g. /dev/serial0@115200)`);
  }
  if (path === '') throw new SerialEndpointError(`no device path in '${spec}' (expected PATH[@BAUD], e.g. /dev/ttyUSB0@115200)`);
  return { path, baudRate };
}

export function isSerialEndpoint(endpoint: string): boolean {
  return endpoint.startsWith(SERIAL_SCHEME);
}

/** `serial:PATH[@BAUD]`. */
export function parseSerialEndpoint(endpoint: string): SerialPortSpec {
  if (!isSerialEndpoint(endpoint)) throw new SerialEndpointError(`'${endpoint}' is not a serial endpoint (serial:PATH@BAUD)`);
  return parsePortSpec(endpoint.slice(SERIAL_SCHEME.length));
}

/** The canonical name of a port as an endpoint: `serial:PATH@BAUD`. */
export function serialEndpointName(spec: SerialPortSpec): string {
  return `${SERIAL_SCHEME}${spec.path}@${spec.baudRate}`;
}

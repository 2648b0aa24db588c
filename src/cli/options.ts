// Option parsers and option groups shared by the commands.
import { type Stats, statSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import type { MqttEndpoint } from '../transport/mqtt/endpoint.js';

/** A whole decimal number; anything else (1.5, 1e3, -1, 0x10, '') is refused rather than guessed at. */
export function wholeNumber(value: string): number {
  const n = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError(`'${value}' is not a whole number`);
  return n;
}

/**
 * A decimal number, fraction allowed (0.5, .25, 12): the simulator's link latencies in ms and its loss
 * and churn probabilities are not whole. As with wholeNumber, 1e3, -1, 0x10, Infinity and '' are refused.
 */
export function decimalNumber(value: string): number {
  const n = /^(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`'${value}' is not a decimal number`);
  return n;
}

/** `parse`, refusing numbers below `min`: a count of boards or runs where 0 would run nothing. */
export function atLeast(min: number, parse: (value: string) => number): (value: string) => number {
  return (value) => {
    const n = parse(value);
    if (n < min) throw new InvalidArgumentError(`'${value}' is less than ${min}`);
    return n;
  };
}

/** Highest TCP/UDP port. */
const MAX_PORT = 65_535;

/** A TCP port, 0 to 65535 (0: the OS picks a free one); refused while the options are read, before anything is made. */
export function portNumber(value: string): number {
  const n = /^[0-9]+$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(n) || n > MAX_PORT) throw new InvalidArgumentError(`'${value}' is not a port (a whole number from 0 to ${MAX_PORT})`);
  return n;
}

/**
 * A --data folder that is something else (a file, a broken path) is said so by name, before anything is
 * made or opened. `mustExist`: commands that read a data folder (ledger info, ledger verify) need it there.
 */
export function checkDataFolder(dir: string, flag: string, mustExist: boolean): void {
  let st: Stats | undefined;
  try {
    st = statSync(dir, { throwIfNoEntry: false });
  } catch (err) {
    // ENOTDIR: a part of the path is a file; EACCES: a folder on the way is closed to this user.
    throw new Error(`${flag} ${dir}: cannot be used as a data folder (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (st === undefined) {
    if (mustExist) throw new Error(`no ledger in ${dir}: ${flag} names no such folder`);
    return;
  }
  if (!st.isDirectory()) throw new Error(`${flag} ${dir}: is a file, not a data folder`);
}

export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export interface MqttTlsOptions {
  mqttCa?: string;
  mqttCert?: string;
  mqttKey?: string;
  mqttUsername?: string;
  mqttPassword?: string;
  mqttProtocol?: number;
}

/** Adds the options that qualify an MQTT endpoint (TLS files, credentials, protocol version). */
export function addMqttTlsOptions(cmd: Command): Command {
  return cmd
    .option('--mqtt-ca <file>', 'CA certificate (PEM) for mqtts://')
    .option('--mqtt-cert <file>', 'client certificate (PEM) for mqtts://')
    .option('--mqtt-key <file>', 'client private key (PEM) for mqtts://')
    .option('--mqtt-username <name>', 'MQTT username')
    .option('--mqtt-password <secret>', 'MQTT password (prefer env EDGEPEER_MQTT_PASSWORD)')
    .option('--mqtt-protocol <version>', 'MQTT protocol version: 4 (3.1.1, default) or 5', wholeNumber);
}

export function mqttEndpoint(url: string, o: MqttTlsOptions): MqttEndpoint {
  const e: MqttEndpoint = { url };
  if (o.mqttCa !== undefined) e.caFile = o.mqttCa;
  if (o.mqttCert !== undefined) e.certFile = o.mqttCert;
  if (o.mqttKey !== undefined) e.keyFile = o.mqttKey;
  if (o.mqttUsername !== undefined) e.username = o.mqttUsername;
  const password = o.mqttPassword ?? process.env['EDGEPEER_MQTT_PASSWORD'];
  if (password !== undefined) e.password = password;
  if (o.mqttProtocol !== undefined) {
    if (o.mqttProtocol !== 4 && o.mqttProtocol !== 5) throw new InvalidArgumentError('--mqtt-protocol must be 4 or 5');
    e.protocolVersion = o.mqttProtocol;
  }
  return e;
}

/** Resolves when the process is asked to stop (SIGINT or SIGTERM), with the signal's name. */
export function untilStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

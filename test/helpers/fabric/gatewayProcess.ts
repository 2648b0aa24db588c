// Starting `edgepeer gateway` as a real process against a test ordering node (atomicBroadcastServer.ts),
// for the gateway's own process tests and the fleet's end-to-end Fabric test.
import type { CliProcess, SpawnCliOptions, TestRig } from '../processes.js';
import type { TestOrderingNode } from './atomicBroadcastServer.js';

/** What `edgepeer gateway --ready-json` prints once it serves and follows. */
export interface GatewayReady {
  ready: true;
  mqtt: string;
  serial: string[];
  metricsPort: number | null;
  pid: number;
  channel: string;
  /** The ledger height when it started following. */
  height: number;
  fabric: string[];
}

export interface GatewayProcessOptions {
  network: string;
  data: string;
  /** The ordering nodes to follow, in order (the first is asked first). */
  nodes: TestOrderingNode[];
  channel?: string;
  /** Present the test client certificate (mutual TLS). */
  mutualTls?: boolean;
  /** Short waits between attempts, so reconnections in a test take milliseconds. */
  quickRetry?: boolean;
  /** More arguments (--serial, --mqtt, --metrics-port, ...). */
  args?: readonly string[];
  spawn?: SpawnCliOptions;
}

/** Short retry timings for tests: first wait 20 ms, at most 200 ms. */
export const TEST_GATEWAY_RETRY_ARGS = ['--retry-base-delay-ms', '20', '--retry-max-delay-ms', '200'] as const;

export function gatewayArgs(o: GatewayProcessOptions): string[] {
  const files = o.nodes[0]!.files;
  return [
    'gateway', '--network', o.network, '--data', o.data,
    ...(o.channel !== undefined ? ['--channel', o.channel] : []),
    ...o.nodes.flatMap((n) => ['--fabric-endpoint', `${n.server.address}=orderer0.example.com`]),
    '--tls-ca', files.tlsCaFile,
    ...(o.mutualTls ? ['--tls-cert', files.clientCertFile, '--tls-key', files.clientKeyFile] : []),
    '--msp', files.mspDir, '--msp-id', files.mspId,
    '--mqtt-port', '0', '--metrics-port', '0',
    ...(o.quickRetry === false ? [] : TEST_GATEWAY_RETRY_ARGS),
    ...(o.args ?? []),
    '--ready-json',
  ];
}

/** Starts the gateway under `rig` (stopped with the rig) and waits for its readiness line. */
export async function startGatewayProcess(rig: TestRig, o: GatewayProcessOptions): Promise<{ proc: CliProcess; ready: GatewayReady }> {
  const proc = rig.spawn(gatewayArgs(o), { name: 'gateway', ...o.spawn });
  const line = await proc.waitForLine((l) => l.startsWith('{') && l.includes('"ready":true'), 'the gateway ready line');
  return { proc, ready: JSON.parse(line) as GatewayReady };
}

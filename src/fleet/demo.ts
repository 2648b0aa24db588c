// `edgepeer demo`: a whole network on one machine. The orderer, its embedded broker and a load generator
// run in this process; each board is an `edgepeer peer` child process. A live view (or plain status
// lines) shows them until the demo is told to stop, then everything is stopped in order (load, boards,
// orderer, broker) and the demo says where the data is.
import { mkdir, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BroadcastClient } from '../client/broadcastClient.js';
import { genesisTrust } from '../channel/responderTrust.js';
import { loadClient, loadGenesis } from '../network/loadNetwork.js';
import { createLogger } from '../observability/logger.js';
import { statusName } from '../protocol/status.js';
import { configFromBlock } from '../channel/blocks.js';
import { ChannelState } from '../channel/channelState.js';
import { channelBrokerAccess } from '../transport/mqtt/brokerAccess.js';
import { startEmbeddedBroker } from '../transport/mqtt/embeddedBroker.js';
import { brokerCredentials } from '../transport/mqtt/brokerIdentity.js';
import { MqttClientLink } from '../transport/mqtt/mqttClientLink.js';
import { startBoardConsoles } from './boardConsoles.js';
import type { BoardProcess } from './boardProcess.js';
import { demoLayout } from './demoLayout.js';
import { checkDemoCounts, prepareDemoNetwork } from './demoNetwork.js';
import { readDemoFabricSource, startDemoFabricGateway } from './demoFabricGateway.js';
import { type DemoOrderer, startDemoOrderer } from './demoOrderer.js';
import { type DemoSnapshot, boardRow, orgRows } from './demoSnapshot.js';
import { type DemoSummary, type DemoSummaryBoard, formatDemoSummary } from './demoSummary.js';
import { Fleet, edgepeerCliPath } from './fleet.js';
import { colourWanted } from '../observability/terminal.js';
import { LiveView, type TerminalOut } from './liveView.js';
import { LoadGenerator } from './loadGenerator.js';
import { openLogFile } from './logFile.js';
import { formatPlainReport, formatStartLines } from './plainReport.js';
import { RateMeter } from './rateMeter.js';
import {
  BOARD_STATUS_INTERVAL_MS, LIVE_VIEW_REFRESH_MS, PLAIN_REPORT_INTERVAL_MS, SETTLE_POLL_MS, SETTLE_TIMEOUT_MS, demoDefaults,
} from './timings.js';

const TEMP_DIR_PREFIX = 'edgepeer-demo-';
const MQTT_HOST = '127.0.0.1';

export interface DemoOptions {
  boards: number;
  orgs: number;
  /** Boards gossip: one leader per org pulls from the orderer, the others take blocks from their neighbours. */
  gossip: boolean;
  txPerSec: number;
  txSizeBytes: number;
  /** 0: until `stop` aborts. */
  durationS: number;
  /**
   * A Fabric block file or a peer's chains/ folder: the boards follow that Fabric channel, served by a
   * gateway in this process (src/fleet/demoFabricGateway.ts), and no transactions are submitted.
   */
  fabric?: string;
  /** Default: a new folder under the system's temp dir. A folder holding an earlier demo is reused. */
  dir?: string;
  /** 0: a free port. */
  mqttPort: number;
  /** Plain key=value lines even on a terminal. */
  plain: boolean;
  /** Where the view goes (process.stdout). A live view needs a TTY. */
  out: TerminalOut & { isTTY?: boolean };
  /** The compiled CLI the boards run; default the one beside this module. */
  cliPath?: string;
  env?: NodeJS.ProcessEnv;
}

export interface DemoControl {
  /** Aborted: stop everything cleanly. */
  stop: AbortSignal;
  /** Aborted (a second Ctrl-C): kill the boards instead of waiting for them. */
  force?: AbortSignal;
}

export function wantsLiveView(o: Pick<DemoOptions, 'plain' | 'out' | 'env'>): boolean {
  const env = o.env ?? process.env;
  return !o.plain && o.out.isTTY === true && env['TERM'] !== 'dumb';
}

function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

/** Resolves after `ms`, or sooner when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = (): void => { clearTimeout(timer); resolve(); };
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Waits (bounded) until nothing is pending at the orderer and every live board has reported its height. */
async function settle(orderer: DemoOrderer, fleet: Fleet, force: AbortSignal | undefined): Promise<void> {
  const never = new AbortController().signal;
  const deadline = Date.now() + SETTLE_TIMEOUT_MS;
  const settled = (): boolean => orderer.pending() === 0
    && fleet.boards.every((b) => !b.alive || (b.status !== null && b.status.height >= orderer.height()));
  while (!settled() && Date.now() < deadline && force?.aborted !== true) await sleep(SETTLE_POLL_MS, force ?? never);
}

function ending(b: BoardProcess, killed: readonly string[]): string {
  if (killed.includes(b.spec.id)) return 'killed after the stop timeout';
  if (b.state === 'dead') {
    if (b.startError !== null) return `could not start: ${b.startError}`;
    return `died (${b.exitSignal ?? `exit ${b.exitCode ?? '?'}`})`;
  }
  if (b.exitSignal === 'SIGKILL') return 'killed';
  return b.exitCode === 0 ? 'stopped' : `stopped (${b.exitSignal ?? `exit ${b.exitCode ?? '?'}`})`;
}

/** Runs the demo until `control.stop` aborts or the duration ends; resolves once everything has stopped. */
export async function runDemo(o: DemoOptions, control: DemoControl): Promise<DemoSummary> {
  checkDemoCounts(o.boards, o.orgs);
  const startedMs = Date.now();
  const dir = o.dir ?? await mkdtemp(join(tmpdir(), TEMP_DIR_PREFIX));
  const layout = demoLayout(dir);
  await mkdir(layout.logsDir, { recursive: true });
  const logFile = openLogFile(layout.demoLogFile);
  const log = createLogger({ name: 'demo', destination: logFile.stream, pretty: false });
  const ordererLog = createLogger({ name: 'orderer', destination: logFile.stream, pretty: false });
  const write = (lines: string[]): void => { o.out.write(lines.map((l) => `${l}\n`).join('')); };

  // What is started is stopped in reverse order, also when a later step fails.
  const stoppers: { what: string; stop: () => Promise<void> }[] = [];
  const stopAll = async (): Promise<void> => {
    for (const s of stoppers.reverse()) {
      try {
        await s.stop();
      } catch (err) {
        log.error({ err: (err as Error).message, what: s.what }, 'stopping failed');
      }
    }
    stoppers.length = 0;
  };

  let fleet: Fleet | undefined;
  let load: LoadGenerator | undefined;
  let ordererHeight = (): number => 0;
  let channel: string = demoDefaults.channel;
  let killed: string[] = [];
  let view: LiveView | undefined;
  let reportTimer: ReturnType<typeof setInterval> | undefined;
  try {
    // The access rules of `edgepeer orderer` and `edgepeer gateway` (docs/protocol.md §11.3): even on
    // loopback, another user of this machine must not read the demo's chain (with --fabric: a real
    // channel's blocks). Logins are judged by the configuration of the channel the demo serves: its
    // genesis block (for a Fabric channel, the edge access configuration) from the network folder, which
    // is made after the broker starts (it names the broker's URL); the orderer's own states once it runs,
    // which follow configuration blocks. Nothing logs in before the folder is made.
    let served: () => Iterable<ChannelState> = () => [];
    const broker = await startEmbeddedBroker({
      host: MQTT_HOST, port: o.mqttPort, access: channelBrokerAccess(() => served()),
      onRefused: (what, clientId, reason) => log.warn({ what, clientId, reason }, 'broker refused a client'),
    });
    stoppers.push({ what: 'broker', stop: () => broker.close() });

    const fabric = o.fabric === undefined ? undefined : readDemoFabricSource(o.fabric);
    const net = await prepareDemoNetwork({
      networkDir: layout.networkDir, boards: o.boards, orgs: o.orgs, channel: demoDefaults.channel, mqttUrl: broker.url, gossip: o.gossip,
      ...(fabric !== undefined ? { fabric: { channel: fabric.channel, genesis: fabric.genesis } } : {}),
    });
    channel = net.channel;
    const genesisState = [new ChannelState(configFromBlock(loadGenesis(net.networkDir, net.channel)))];
    served = () => genesisState;
    const txPerSec = fabric === undefined ? o.txPerSec : 0;
    const orderer = fabric === undefined
      ? await startDemoOrderer({ networkDir: net.networkDir, dataDir: layout.ordererDataDir, channel: net.channel, brokerUrl: broker.url, log: ordererLog })
      : await startDemoFabricGateway({ networkDir: net.networkDir, dataDir: layout.ordererDataDir, fabric, brokerUrl: broker.url, log: ordererLog });
    ordererHeight = () => orderer.height();
    served = () => orderer.channelStates();
    stoppers.push({
      what: 'orderer',
      stop: async () => {
        const h = await orderer.stop();
        ordererHeight = () => h;
      },
    });

    // Each board's serial console is a PTY; stopped after the boards (stoppers run in reverse).
    const consoles = await startBoardConsoles(layout, net.boards.map((b) => b.id), log);
    stoppers.push({ what: 'consoles', stop: () => consoles.stop() });
    const specs = net.boards.map((b) => ({
      ...b, dataDir: layout.boardDataDir(b.id), logFile: layout.boardLogFile(b.id),
      ...(consoles.get(b.id) !== undefined && { consolePath: consoles.get(b.id)!.boardEnd }),
    }));
    for (const s of specs) await mkdir(s.dataDir, { recursive: true });
    const theFleet = new Fleet(specs, {
      cliPath: o.cliPath ?? edgepeerCliPath(), networkDir: net.networkDir, brokerUrl: broker.url, statusIntervalMs: BOARD_STATUS_INTERVAL_MS,
    });
    fleet = theFleet;
    theFleet.on('died', (b) => log.warn({ board: b.spec.id, pid: b.pid, code: b.exitCode, signal: b.exitSignal, error: b.startError }, 'board died'));
    theFleet.start();
    const heightAtStatus = new Map<string, number>();
    const boardMeters = new Map<string, RateMeter>();
    for (const b of theFleet.boards) {
      const meter = new RateMeter();
      boardMeters.set(b.spec.id, meter);
      b.on('status', (r) => {
        heightAtStatus.set(b.spec.id, orderer.height());
        meter.sample(r.height, Date.now());
      });
    }
    stoppers.push({ what: 'boards', stop: async () => { killed = (await theFleet.stop()).killed; } });
    control.force?.addEventListener('abort', () => theFleet.kill(), { once: true });

    const loadSigner = loadClient(net.networkDir);
    // The orderer answers only on the reply topic named after the signer (docs/protocol.md §11).
    const link = new MqttClientLink({
      endpoint: { url: broker.url }, credentials: brokerCredentials(loadSigner),
      onError: (err) => log.debug({ err: err.message }, 'load generator MQTT'),
    });
    stoppers.push({ what: 'load generator link', stop: () => link.close() });
    await link.open([net.channel]);
    const client = new BroadcastClient(link, net.channel, loadSigner, genesisTrust(loadGenesis(net.networkDir, net.channel)));
    const gen = new LoadGenerator({
      // A Fabric channel's transactions are Fabric's: the demo only follows its blocks.
      client, txPerSec, txSizeBytes: o.txSizeBytes,
      onFailure: (r) => log.warn({ txId: r.txId, status: statusName(r.status), info: r.info }, 'transaction not accepted'),
    });
    load = gen;
    stoppers.push({
      what: 'load generator',
      stop: async () => {
        await gen.stop();
        client.close();
        if (!control.force?.aborted) await settle(orderer, theFleet, control.force);
      },
    });
    gen.start();
    log.info({ dir: layout.dir, broker: broker.url, channel: net.channel, boards: specs.map((s) => s.id) }, 'demo running');

    const live = wantsLiveView(o);
    if (!live) {
      write(formatStartLines({
        dir: layout.dir, networkDir: net.networkDir, networkCreated: net.created, brokerUrl: broker.url, channel: net.channel,
        targetTxPerSec: txPerSec, txSizeBytes: o.txSizeBytes, gossip: o.gossip,
        boards: theFleet.boards.map((b) => ({
          id: b.spec.id, org: b.spec.org, pid: b.pid, dataDir: b.spec.dataDir, logFile: b.spec.logFile,
          console: consoles.get(b.spec.id)?.monitorEnd ?? null, consolePid: consoles.get(b.spec.id)?.pid ?? null,
        })),
      }));
    }
    const txMeter = new RateMeter();
    const blockMeter = new RateMeter();
    const snapshot = (): DemoSnapshot => {
      const now = Date.now();
      const height = orderer.height();
      const stats = gen.stats();
      txMeter.sample(stats.accepted, now);
      blockMeter.sample(height, now);
      const boards = theFleet.boards.map((b) => boardRow(b, {
        ordererHeight: height, heightAtStatus: heightAtStatus.get(b.spec.id) ?? null, blocksPerSec: boardMeters.get(b.spec.id)?.perSecond() ?? null, nowMs: now,
      }));
      return {
        channel: net.channel, brokerUrl: broker.url, dir: layout.dir, targetTxPerSec: txPerSec, txSizeBytes: o.txSizeBytes, gossip: o.gossip,
        atMs: now, uptimeMs: now - startedMs, ordererHeight: height, txPerSec: txMeter.perSecond(), blocksPerSec: blockMeter.perSecond(),
        load: stats, boards, orgs: orgRows(boards),
      };
    };
    if (live) {
      const v = new LiveView(o.out, colourWanted(true, o.env ?? process.env));
      view = v;
      v.render(snapshot());
      reportTimer = setInterval(() => v.render(snapshot()), LIVE_VIEW_REFRESH_MS);
    } else {
      reportTimer = setInterval(() => write(formatPlainReport(snapshot())), PLAIN_REPORT_INTERVAL_MS);
    }

    const until = o.durationS > 0 ? sleep(o.durationS * 1000, control.stop) : aborted(control.stop);
    await until;
    // From here on a board that ends is part of stopping, not a death to report.
    theFleet.markStopping();
    clearInterval(reportTimer);
    reportTimer = undefined;
    if (view) {
      view.render(snapshot());
      view.close();
      view = undefined;
    }
    o.out.write(`stopping: load generator, ${specs.length} boards (SIGTERM), orderer, broker …\n`);
  } catch (err) {
    // What was started is stopped (finally, below); the folder stays, for its log, and is named.
    if (err instanceof Error) err.message = `${err.message}; the demo's files (its log: ${layout.demoLogFile}) are left in ${layout.dir}`;
    throw err;
  } finally {
    if (reportTimer !== undefined) clearInterval(reportTimer);
    view?.close();
    fleet?.markStopping();
    await stopAll();
    logFile.close();
  }

  const stats = load?.stats();
  const boards: DemoSummaryBoard[] = (fleet?.boards ?? []).map((b) => ({
    id: b.spec.id, dataDir: b.spec.dataDir, logFile: b.spec.logFile, height: b.status?.height ?? null, ending: ending(b, killed),
  }));
  const summary: DemoSummary = {
    layout, uptimeMs: Date.now() - startedMs, channel,
    ordererHeight: ordererHeight(), submitted: stats?.submitted ?? 0, accepted: stats?.accepted ?? 0, failed: stats?.failed ?? 0, boards,
  };
  o.out.write(formatDemoSummary(summary));
  return summary;
}

// The gateway role: follows one Fabric channel from Fabric ordering nodes (or peers) into its own ledger,
// byte for byte and verified (blocksProvider.ts), and serves that ledger to boards with edgepeer's Deliver
// over its links, as the orderer serves the chains it cuts. It takes no Broadcast: transactions for a
// Fabric channel go to the Fabric network.
import { ChannelState } from '../channel/channelState.js';
import { configFromBlock } from '../channel/blocks.js';
import type { Clock } from '../config/clock.js';
import type { ChainRules } from '../ledger/chainRules.js';
import { type LmdbLedger, ledgerPath, openLedger } from '../ledger/lmdbLedger.js';
import type { Logger } from '../observability/logger.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import { type DeliverLimits, DeliverService } from '../orderer/deliverService.js';
import { ReplayGuard, replayGuardDefaults } from '../orderer/replayGuard.js';
import { ReplyKeys } from '../orderer/replyKeys.js';
import type { Signer } from '../protocol/envelope.js';
import { requestTimeWindowMs } from '../orderer/ordererDefaults.js';
import { deliverDefaults } from '../protocol/deliverDefaults.js';
import { decodeSubmitFrame, encodeBroadcastResponse } from '../protocol/frames.js';
import { Status, statusName } from '../protocol/status.js';
import type { IncomingRequest, ServerLink } from '../transport/link.js';
import { BlocksProvider, type FollowLimits, type FollowObserver } from './blocksProvider.js';
import type { DeliverConnector, FabricEndpoint } from './deliverConnector.js';
import { FollowedChain } from './followedChain.js';
import type { FabricSigner } from './mspIdentity.js';

export interface GatewayOptions {
  dataDir: string;
  channel: string;
  /** The Fabric channel's rules: block format, the pinned genesis as trust anchor, the run verifier. */
  rules: ChainRules;
  /** The channel's edge access configuration block (who may read from the gateway). */
  access: Uint8Array;
  /**
   * The Fabric nodes to follow, with the connector and the MSP identity the follow loop needs. None: the
   * gateway follows nothing and serves what its ledger holds (filled by `edgepeer fabric import`), for
   * boards whose site has no link to the Fabric network.
   */
  endpoints: readonly FabricEndpoint[];
  connector?: DeliverConnector;
  signer?: FabricSigner;
  /**
   * The edgepeer identity whose ReplyKey authenticates the gateway's Deliver answers to boards
   * (docs/protocol.md §4.1): an orderer of the edge access configuration, as boards trust it.
   */
  replySigner: Signer;
  clock: Clock;
  random: () => number;
  log: Logger;
  followLimits: FollowLimits;
  deliverLimits?: Partial<DeliverLimits>;
  metrics?: GatewayMetrics;
  /** Besides the metrics: hears every report of the follow loop (tests, the readiness line). */
  observer?: FollowObserver;
}

export class Gateway {
  readonly chain: FollowedChain;
  /** Null when there is nothing to follow (no endpoints). */
  readonly provider: BlocksProvider | null;
  private readonly ledger: LmdbLedger;
  private readonly deliver: DeliverService;
  private readonly replyKeys: ReplyKeys;
  private readonly seeks: ReplayGuard;
  private readonly links: ServerLink[] = [];
  private stopped = false;

  constructor(private readonly o: GatewayOptions) {
    const access = new ChannelState(configFromBlock(o.access), o.clock.now());
    if (access.config.channel !== o.channel) {
      throw new Error(`the edge access configuration is for channel '${access.config.channel}', not '${o.channel}'`);
    }
    this.ledger = openLedger(ledgerPath(o.dataDir, o.channel), { channel: o.channel, format: o.rules.format });
    try {
      const verifier = o.rules.anchor(this.ledger, (n) => o.log.info({ channel: o.channel, block: n }, 'Fabric configuration block verified'));
      this.chain = new FollowedChain(this.ledger, access);
      const m = o.metrics;
      const channel = o.channel;
      m?.ledgerHeight.set({ channel }, this.ledger.height());
      const outer = o.observer;
      if (o.endpoints.length > 0 && (o.connector === undefined || o.signer === undefined)) {
        throw new Error('following Fabric endpoints needs a connector and an MSP identity');
      }
      this.provider = o.endpoints.length === 0 ? null : new BlocksProvider({
        channel,
        endpoints: o.endpoints,
        connector: o.connector!,
        signer: o.signer!,
        ledger: this.ledger,
        verifier,
        clock: o.clock,
        random: o.random,
        log: o.log,
        limits: o.followLimits,
        observer: {
          state: (state, endpoint) => {
            m?.fabricEndpointStreaming.set({ endpoint }, state === 'streaming' ? 1 : 0);
            outer?.state?.(state, endpoint);
          },
          stored: (count, height) => {
            this.chain.grew();
            m?.blocksCommitted.inc({ channel }, count);
            m?.ledgerHeight.set({ channel }, height);
            outer?.stored?.(count, height);
          },
          rejected: (reason, block, endpoint) => {
            m?.blocksRejected.inc({ channel, reason });
            outer?.rejected?.(reason, block, endpoint);
          },
          deliverStatus: (status, endpoint) => {
            m?.fabricDeliverStatus.inc({ endpoint, status });
            outer?.deliverStatus?.(status, endpoint);
          },
          attemptFailed: (failure, endpoint, retryInMs) => {
            m?.fabricAttemptsFailed.inc({ endpoint, failure });
            outer?.attemptFailed?.(failure, endpoint, retryInMs);
          },
          failed: (err) => outer?.failed?.(err),
        },
      });
    } catch (err) {
      void this.ledger.close();
      throw err;
    }
    const limits = { ...deliverDefaults, requestTimeWindowMs, ...o.deliverLimits };
    this.replyKeys = new ReplyKeys(o.replySigner, o.clock);
    this.seeks = new ReplayGuard(limits.requestTimeWindowMs, o.clock, replayGuardDefaults.deliver);
    this.deliver = new DeliverService({
      chains: new Map([[o.channel, this.chain]]),
      clock: o.clock,
      log: o.log,
      limits,
      replyKeys: this.replyKeys,
      replay: this.seeks,
      observer: o.metrics && {
        request: (status) => o.metrics!.deliverRequests.inc({ status }),
        streamsOpen: (n) => o.metrics!.deliverStreamsOpen.set(n),
        dropped: (reason) => o.metrics!.linkMessagesDropped.inc({ reason }),
      },
    });
  }

  get height(): number {
    return this.ledger.height();
  }

  /** Starts following the Fabric channel. */
  start(): void {
    this.provider?.start();
  }

  /** Serves Deliver to boards on `link`. */
  async serve(link: ServerLink): Promise<void> {
    this.links.push(link);
    await link.start((req: IncomingRequest) => {
      if (req.service === 'deliver') this.deliver.handle(link, req.channel, req.message);
      else this.refuseBroadcast(link, req);
    });
    this.o.log.info({ link: link.name, channel: this.o.channel }, 'gateway serving');
  }

  private refuseBroadcast(link: ServerLink, req: IncomingRequest): void {
    let replyTo: string | undefined;
    let session: string | undefined;
    let txId = '';
    let payload;
    try {
      payload = decodeSubmitFrame(req.message).envelope.payload;
      ({ replyTo, session, txId } = payload);
    } catch {
      this.o.metrics?.linkMessagesDropped.inc({ reason: 'malformed' });
      return;
    }
    const info = 'this is a Fabric gateway: submit transactions to the Fabric network';
    this.o.log.warn({ channel: req.channel, txId, status: statusName(Status.BAD_REQUEST) }, `broadcast refused: ${info}`);
    if (replyTo === undefined || session === undefined || !link.replyRouteAllowed(req.channel, replyTo, payload.creator)) return;
    // Unsigned by a creator we checked, so this refusal says nothing a forger could not: authenticated
    // all the same, for the requester's key share, like every reply (docs/protocol.md §4.1).
    const key = this.replyKeys.agree(payload.keyShare);
    const mac = typeof key === 'string' ? undefined : key.mac.broadcastResponse(session, txId, Status.BAD_REQUEST, info);
    const answer = { session, txId, status: Status.BAD_REQUEST, info, ...(mac === undefined ? {} : { mac }) };
    link.reply(replyTo, encodeBroadcastResponse(answer, typeof key === 'string' ? undefined : key.replyKey)).catch((err: Error) =>
      this.o.log.debug({ err: err.message }, 'could not send broadcast status'));
  }

  /** Stops following, ends Deliver sessions, closes the links and the ledger. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.provider?.stop();
    this.o.connector?.close();
    await this.deliver.close();
    this.seeks.close();
    await Promise.allSettled(this.links.map((l) => l.close()));
    this.chain.close();
    await this.ledger.close();
  }
}

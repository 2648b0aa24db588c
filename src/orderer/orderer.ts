// The orderer: one Chain per channel, the Deliver and Broadcast services, and the links they listen on.
import { type Clock, systemClock } from '../config/clock.js';
import { requestTimeWindowMs } from './ordererDefaults.js';
import { deliverDefaults } from '../protocol/deliverDefaults.js';
import { openLedger, ledgerPath } from '../ledger/lmdbLedger.js';
import type { Logger } from '../observability/logger.js';
import type { OrdererMetrics } from '../observability/metrics.js';
import type { Signer } from '../protocol/envelope.js';
import type { IncomingRequest, ServerLink } from '../transport/link.js';
import { BroadcastService } from './broadcastService.js';
import { Chain } from './chain.js';
import { type DeliverLimits, DeliverService } from './deliverService.js';
import { ReplayGuard, rememberLedgerTransactions, replayGuardDefaults } from './replayGuard.js';
import { ReplyKeys } from './replyKeys.js';
import { identityOf } from './requestChecks.js';

export interface OrdererOptions {
  dataDir: string;
  channels: { channel: string; genesis: Uint8Array }[];
  signer: Signer;
  /** Further identities of this node, for a rotation of its key (src/orderer/chain.ts). */
  keyring?: () => readonly Signer[];
  log: Logger;
  clock?: Clock;
  metrics?: OrdererMetrics;
  limits?: Partial<DeliverLimits>;
  /** A channel's ledger refused a block (src/orderer/chain.ts onFailed): the caller recovers or exits. */
  onChannelFailed?: (channel: string, err: Error) => void;
  /** A configuration block was cut: who may act (revocation, orgs) may have changed. */
  onConfigApplied?: (channel: string) => void;
  /**
   * The node signs with another identity from now on: no channel names the old one as a block signer
   * any more (its key was rotated). Called before onConfigApplied, so that the node's broker login can
   * change before the broker judges the open connections again.
   */
  onIdentityChanged?: (identity: Signer) => void;
}

export class Orderer {
  readonly chains = new Map<string, Chain>();
  private readonly links: ServerLink[] = [];
  private readonly deliver: DeliverService;
  private readonly broadcast: BroadcastService;
  private readonly clock: Clock;
  private readonly replayGuards: ReplayGuard[];
  private readonly replyKeys: ReplyKeys;

  constructor(private readonly o: OrdererOptions) {
    this.clock = o.clock ?? systemClock;
    const m = o.metrics;
    for (const { channel, genesis } of o.channels) {
      const ledger = openLedger(ledgerPath(o.dataDir, channel), { channel });
      const chain = new Chain({
        ledger,
        genesis,
        signer: o.signer,
        ...(o.keyring !== undefined ? { keyring: o.keyring } : {}),
        clock: this.clock,
        onBlockCut: (ch, number, envelopes, isConfig) => {
          m?.blocksCut.inc({ channel: ch });
          m?.blocksCommitted.inc({ channel: ch });
          m?.ledgerHeight.set({ channel: ch }, number + 1);
          o.log.debug({ channel: ch, block: number, envelopes, config: isConfig }, 'block cut');
          if (isConfig) {
            this.followSigners();
            o.onConfigApplied?.(ch);
          }
        },
        onFailed: (ch, err) => {
          o.log.fatal({ channel: ch, err: err.message }, 'the ledger refused a block: its store and the orderer disagree; this channel stops');
          o.onChannelFailed?.(ch, err);
        },
      });
      m?.ledgerHeight.set({ channel }, chain.height());
      this.chains.set(channel, chain);
    }
    const limits: DeliverLimits = { ...deliverDefaults, requestTimeWindowMs, ...o.limits };
    // One reply key for both services; each remembers the txIds it took (docs/protocol.md §4.1, §4.2).
    const replyKeys = new ReplyKeys(this.chains.values().next().value?.identity ?? o.signer, this.clock);
    this.replyKeys = replyKeys;
    const seeks = new ReplayGuard(limits.requestTimeWindowMs, this.clock, replayGuardDefaults.deliver);
    const submits = new ReplayGuard(limits.requestTimeWindowMs, this.clock, replayGuardDefaults.broadcast);
    this.replayGuards = [seeks, submits];
    for (const chain of this.chains.values()) {
      const scan = rememberLedgerTransactions(submits, chain.ledger, this.clock.now(), limits.requestTimeWindowMs, identityOf);
      const log = scan.incomplete ? o.log.warn.bind(o.log) : o.log.debug.bind(o.log);
      log({ channel: chain.channel, ...scan }, scan.incomplete
        ? 'transactions of the request window do not all fit the replay memory: older ones could be replayed after this restart'
        : 'transactions of the request window remembered');
    }
    this.deliver = new DeliverService({
      chains: this.chains,
      clock: this.clock,
      log: o.log,
      limits,
      replyKeys,
      replay: seeks,
      observer: m && {
        request: (status) => m.deliverRequests.inc({ status }),
        streamsOpen: (n) => m.deliverStreamsOpen.set(n),
        dropped: (reason) => m.linkMessagesDropped.inc({ reason }),
      },
    });
    this.broadcast = new BroadcastService({
      chains: this.chains,
      clock: this.clock,
      log: o.log,
      requestTimeWindowMs: limits.requestTimeWindowMs,
      replyKeys,
      replay: submits,
      observer: m && {
        request: (status) => m.broadcastRequests.inc({ status }),
        dropped: (reason) => m.linkMessagesDropped.inc({ reason }),
      },
    });
  }

  /** The identity the node answers with (it signs the ReplyKeys): one its channels name as a block signer. */
  get identity(): Signer {
    return this.replyKeys.identity;
  }

  /**
   * After a configuration block: once no channel signs with the identity the node answers with, it
   * answers (and logs in to the broker) with the one the channels sign with now.
   */
  private followSigners(): void {
    // Called while the first chains are still being made (no configuration block then): nothing to follow.
    if (this.replyKeys === undefined) return;
    const current = this.replyKeys.identity.certificate.fingerprint;
    const chains = [...this.chains.values()];
    if (chains.some((c) => c.identity.certificate.fingerprint === current)) return;
    const next = chains[0]?.identity;
    if (next === undefined) return;
    this.replyKeys.useSigner(next);
    this.o.log.info({ id: next.certificate.id, fingerprint: next.certificate.fingerprint, previous: current }, 'orderer key rotated: blocks, answers and the broker login use the new identity');
    this.o.onIdentityChanged?.(next);
  }

  chain(channel: string): Chain {
    const c = this.chains.get(channel);
    if (!c) throw new Error(`channel '${channel}' is not served by this orderer`);
    return c;
  }

  get openDeliverSessions(): number {
    return this.deliver.openSessions;
  }

  /** Starts serving requests arriving on `link`. */
  async serve(link: ServerLink): Promise<void> {
    this.links.push(link);
    await link.start((req: IncomingRequest) => {
      if (req.service === 'deliver') this.deliver.handle(link, req.channel, req.message);
      else this.broadcast.handle(link, req.channel, req.message);
    });
    this.o.log.info({ link: link.name, channels: [...this.chains.keys()] }, 'orderer serving');
  }

  /** Ends sessions, closes links, cuts what is pending and closes the ledgers cleanly. */
  async stop(): Promise<void> {
    await this.deliver.close();
    for (const g of this.replayGuards) g.close();
    await Promise.allSettled(this.links.map((l) => l.close()));
    for (const chain of this.chains.values()) {
      chain.close();
      await chain.ledger.close();
    }
  }
}

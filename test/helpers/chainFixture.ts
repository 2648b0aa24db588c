// A real Chain on a real LMDB ledger under a per-file temp root, driven by a manual clock: the base the
// orderer's Broadcast and Deliver service tests build their fixtures on.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ZERO_HASH, makeConfigBlock, signConfigEnvelope } from '../../src/channel/blocks.js';
import { type LmdbLedger, ledgerPath, openLedger } from '../../src/ledger/lmdbLedger.js';
import { Chain } from '../../src/orderer/chain.js';
import type { BatchConfig, ChannelConfig } from '../../src/protocol/channelConfig.js';
import { ManualClock } from './fakes.js';
import { type TestChannel, makeTestChannel } from './testChannel.js';

export interface ChainFixture {
  tc: TestChannel;
  config: ChannelConfig;
  ledger: LmdbLedger;
  chain: Chain;
  clock: ManualClock;
  /** Closes the chain, then its ledger. */
  close(): Promise<void>;
}

/**
 * One temp root per test file: call `open()` in before() and `remove()` in after(); each `chain()` gets its
 * own ledger directory under it, so fixtures never share state.
 */
export class ChainFixtureRoot {
  private root: string | undefined;
  private dirs = 0;

  constructor(private readonly prefix: string) {}

  open(): void {
    this.root = mkdtempSync(join(tmpdir(), this.prefix));
  }

  remove(): void {
    if (this.root !== undefined) rmSync(this.root, { recursive: true, force: true });
    this.root = undefined;
  }

  chain(channel: string, batch: BatchConfig): ChainFixture {
    if (this.root === undefined) throw new Error('ChainFixtureRoot.open() was not called');
    const tc = makeTestChannel({ channel, txDataBytes: 64 });
    const config: ChannelConfig = { ...tc.config, batch };
    const genesis = makeConfigBlock(0, ZERO_HASH, signConfigEnvelope(config, tc.ordererAdmin), tc.blockSigners).bytes;
    const ledger = openLedger(ledgerPath(join(this.root, `d${this.dirs++}`), channel), { channel });
    const clock = new ManualClock();
    const chain = new Chain({ ledger, genesis, signer: tc.ordererSigner, clock });
    return {
      tc, config, ledger, chain, clock,
      async close() {
        chain.close();
        await ledger.close();
      },
    };
  }
}

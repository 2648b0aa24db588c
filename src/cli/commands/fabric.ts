// `edgepeer fabric ...`: working with a Hyperledger Fabric ledger on disk.
//   verify PATH [--json]   every block checked as Fabric's ledgerutil verify and a peer check it:
//                          data hash, previous hash, well-formed transactions, and the orderer
//                          signatures under the channel's BlockValidation policy (docs/fabric.md).
//   import PATH ...        (src/cli/commands/fabricImport.ts) loads blocks into a gateway's ledger.
// `--json` prints what ledgerutil verify writes to blocks.json: an array of only the blocks with
// problems, {"blockNum", "valid", "errors"}, in Fabric's wording, signature problems as further errors.
// The exit status is 1 when any block has a problem.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { FabricChannelRules } from '../../fabric/channelRules.js';
import { type FabricLedgerSource, findFabricLedgers, ledgerBlocks } from '../../fabric/blockFiles.js';
import { type BlockCheckResult, LedgerAuditor } from '../../fabric/ledgerAudit.js';
import { BLOCK_VALIDATION_POLICY } from '../../fabric/policies.js';
import { SignatureAuditStage } from '../../fabric/signatureAudit.js';
import { registerFabricImport } from './fabricImport.js';

interface VerifyCliOptions {
  json?: boolean;
  channel?: string;
  configBlock?: string;
}

export interface FabricVerifyReport {
  channel: string;
  files: string[];
  blocksChecked: number;
  firstBlock: number;
  lastBlock: number;
  signaturesChecked: number;
  anchorBlock: number;
  configBlocks: number[];
  signers: string[];
  /** The blocks with problems (blocks.json). */
  problems: BlockCheckResult[];
  notes: string[];
}

/** Verifies one ledger: every block, its signatures included. */
export function verifyFabricLedger(source: FabricLedgerSource, anchor?: FabricChannelRules): FabricVerifyReport {
  const stage = new SignatureAuditStage(anchor);
  const auditor = new LedgerAuditor({ stage, ...(source.snapshot !== undefined ? { snapshot: source.snapshot } : {}) });
  for (const b of ledgerBlocks(source)) auditor.check(b.block);
  const s = auditor.summary;
  const notes: string[] = [];
  if (source.snapshot !== undefined) notes.push(`ledger joined from a snapshot ending at block ${source.snapshot.lastBlockNumber}; verified from its first stored block`);
  if (source.snapshotProblem !== undefined) notes.push(`snapshot info not used: ${source.snapshotProblem}`);
  if (stage.anchorBlock >= 0) notes.push(`block ${stage.anchorBlock} is the trust anchor: its configuration is taken as given, as a peer takes the block it joins with`);
  const unsupported = stage.current?.unsupportedMsps;
  if (unsupported !== undefined) for (const reason of unsupported.values()) notes.push(reason);
  return {
    channel: stage.current?.channelId ?? source.channel,
    files: source.files,
    blocksChecked: s.blocksChecked,
    firstBlock: s.firstBlock,
    lastBlock: s.lastBlock,
    signaturesChecked: stage.signaturesChecked,
    anchorBlock: stage.anchorBlock,
    configBlocks: stage.configBlocks,
    signers: [...stage.signers],
    problems: s.problems,
    notes,
  };
}

/** JSON as Go's json.Encoder writes it: <, >, & and U+2028/2029 escaped (its default HTML escaping). */
function goJson(v: unknown): string {
  return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** blocks.json as Fabric's ledgerutil writes it (its JSON list writer: one entry a line, "," lines between). */
export function blocksJson(problems: readonly BlockCheckResult[]): string {
  const entries = problems.map((p) => goJson({ blockNum: p.blockNum, valid: p.valid, errors: p.errors }));
  return `[\n${entries.map((e) => `${e}\n`).join(',\n')}]\n`;
}

export function summaryText(r: FabricVerifyReport): string {
  const lines = [
    `channel      ${r.channel}`,
    `files        ${r.files.length === 1 ? r.files[0] : `${r.files.length} block files (${r.files[0]} ...)`}`,
    `blocks       ${r.blocksChecked} checked${r.blocksChecked > 0 ? `, ${r.firstBlock} to ${r.lastBlock}` : ''}`,
    `signatures   ${r.signaturesChecked} blocks checked under ${BLOCK_VALIDATION_POLICY}; config blocks ${r.configBlocks.join(', ') || 'none'}`,
    `signers      ${r.signers.length === 0 ? '(none)' : r.signers.join('\n             ')}`,
  ];
  for (const n of r.notes) lines.push(`note         ${n}`);
  if (r.problems.length === 0) {
    lines.push(`verdict      OK: all ${r.blocksChecked} blocks valid`);
  } else {
    lines.push(`verdict      FAILED: ${r.problems.length} of ${r.blocksChecked} blocks have problems`);
    for (const p of r.problems) lines.push(`  block ${p.blockNum}: ${p.errors.join('; ')}`);
  }
  return `${lines.join('\n')}\n`;
}

function chooseLedgers(path: string, o: VerifyCliOptions): FabricLedgerSource[] {
  const found = findFabricLedgers(path);
  if (o.channel !== undefined) {
    const match = found.filter((s) => s.channel === o.channel);
    if (match.length === 0) throw new Error(`${path} holds no ledger of channel '${o.channel}' (found: ${found.map((s) => s.channel).join(', ')})`);
    return match;
  }
  if (found.length > 1 && o.json) {
    throw new Error(`${path} holds the ledgers of several channels (${found.map((s) => s.channel).join(', ')}): choose one with --channel`);
  }
  return found;
}

function writer(cmd: Command): (s: string) => void {
  return cmd.configureOutput().writeOut ?? ((s: string) => process.stdout.write(s));
}

export function registerFabric(program: Command): void {
  const fabric = program.command('fabric').description('work with a Hyperledger Fabric ledger (block files, a peer\'s chains/ folder)');

  fabric
    .command('verify <path>')
    .description('verify every block of a Fabric block file or a peer\'s chains/ folder: hashes, links, transactions and orderer signatures, by Fabric\'s rules')
    .option('--json', 'print what Fabric\'s ledgerutil verify writes to blocks.json: the blocks with problems')
    .option('--channel <name>', 'the channel to verify when the folder holds several')
    .option('--config-block <file>', 'a config block (serialized common.Block) to judge signatures by, for a ledger that starts after its last config block (joined from a snapshot)')
    .action((path: string, o: VerifyCliOptions, cmd: Command) => {
      const anchor = o.configBlock === undefined ? undefined : FabricChannelRules.fromConfigBlock(new Uint8Array(readFileSync(o.configBlock)));
      const out = writer(cmd);
      let failed = false;
      for (const source of chooseLedgers(path, o)) {
        const report = verifyFabricLedger(source, anchor);
        failed ||= report.problems.length > 0 || report.blocksChecked === 0;
        out(o.json ? blocksJson(report.problems) : summaryText(report));
      }
      if (failed) process.exitCode = 1;
    });

  registerFabricImport(fabric);
}

// Prepares a Raspberry Pi OS boot partition for a board's first boot: the UART for edgepeer's console,
// ssh, the login user, and a first-boot step that installs the bundle, the board's files and the unit
// (src/provision/firstRun.ts). Works on a mounted partition or on an image file (bootPartition.ts).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { boardConfigOf, buildBoardOverlay, deployedAddresses, loopbackAddresses } from '../deploy/boardOverlay.js';
import type { BundleFile } from '../deploy/bundleFile.js';
import { boardSettings } from '../deploy/deployBoard.js';
import type { InventoryBoard } from '../deploy/inventory.js';
import type { BootPartition } from './bootPartition.js';
import { checkHostname, uartConfigLines, userconfLine, withConfigBlock, withFirstRun } from './bootConfig.js';
import { FIRSTRUN_FILE, PAYLOAD_BUNDLE, PAYLOAD_DIR, PAYLOAD_OVERLAY, firstRunScript } from './firstRun.js';

/** Where Raspberry Pi OS Bookworm mounts the boot partition; Bullseye and older: /boot. */
export const DEFAULT_FIRMWARE_PATH = '/boot/firmware';

export interface ProvisionOptions {
  boot: BootPartition;
  bundle: BundleFile;
  networkDir: string;
  /** The board as the inventory would describe it (host = its host name). */
  board: InventoryBoard;
  user: string;
  passwordHash: string;
  sshKeys: string[];
  wifi: { ssid: string; psk: string; country: string } | null;
  firmwarePath: string;
  keepSerialConsole: boolean;
  statusIntervalMs: number;
  releaseName: string;
  now?: Date;
  /** Write loopback orderer and gossip addresses anyway (a lab on one host); refused otherwise, as by deploy. */
  allowLoopback?: boolean;
}

export interface ProvisionResult {
  release: string;
  profile: string;
  heapMb: number;
  /** Files written, relative to the partition's root. */
  written: string[];
  warnings: string[];
}

export class ProvisionError extends Error {
  override readonly name = 'ProvisionError';
}

async function readText(boot: BootPartition, name: string): Promise<string> {
  const b = await boot.read(name);
  if (b === null) throw new ProvisionError(`${boot.description} has no ${name}: not a Raspberry Pi OS boot partition`);
  return b.toString('utf8');
}

export async function provisionSd(o: ProvisionOptions): Promise<ProvisionResult> {
  checkHostname(o.board.host);
  const configTxt = await readText(o.boot, 'config.txt');
  const cmdlineTxt = await readText(o.boot, 'cmdline.txt');
  const settings = boardSettings(o.board, { networkDir: o.networkDir, bundle: o.bundle, statusIntervalMs: o.statusIntervalMs });
  // A card goes into a real Pi: init's 127.0.0.1 addresses would have it talk to itself (deploy refuses them too).
  const loopbacks = loopbackAddresses(deployedAddresses(settings, boardConfigOf(o.networkDir, o.board.board)));
  if (loopbacks.length > 0 && o.allowLoopback !== true) {
    throw new ProvisionError([
      `refusing to write loopback addresses (from edgepeer init, for one machine) for ${o.board.board}; nothing was written:`,
      ...loopbacks.map((l) => `  ${l.kind} ${l.addresses.join(', ')}`),
      'Give --orderer with the orderer\'s address on the board\'s network, and the board\'s gossip addresses in its board.json (docs/operations.md, Gossip configuration), or pass --allow-loopback for a lab on one host.',
    ].join('\n'));
  }
  const warnings: string[] = [];
  if (settings.console !== null && o.keepSerialConsole) {
    warnings.push(`edgepeer writes its console to ${settings.console} while Linux keeps its own console there (--keep-serial-console): the two will mix`);
  }
  const work = mkdtempSync(join(tmpdir(), 'edgepeer-provision-'));
  try {
    const overlay = await buildBoardOverlay({
      networkDir: o.networkDir, settings, releaseName: o.releaseName, bundle: o.bundle.manifest, workDir: work, ...(o.now && { now: o.now }),
    });
    warnings.push(...overlay.warnings);
    const release = {
      release: o.releaseName,
      bundleFile: `${o.releaseName}-bundle.tar.gz`,
      overlayFile: `${o.releaseName}-overlay.tar.gz`,
      keyFile: overlay.keyFile,
    };
    const written: string[] = [];
    const put = async (name: string, data: string): Promise<void> => {
      await o.boot.write(name, data);
      written.push(name);
    };
    // The payload first and cmdline.txt last: a card pulled out half-way does not run a first boot
    // that has nothing to install.
    await o.boot.copyIn(o.bundle.path, `${PAYLOAD_DIR}/${PAYLOAD_BUNDLE}`);
    written.push(`${PAYLOAD_DIR}/${PAYLOAD_BUNDLE}`);
    await o.boot.copyIn(overlay.tarball, `${PAYLOAD_DIR}/${PAYLOAD_OVERLAY}`);
    written.push(`${PAYLOAD_DIR}/${PAYLOAD_OVERLAY}`);
    await put(FIRSTRUN_FILE, firstRunScript({
      hostname: o.board.host, user: o.user, passwordHash: o.passwordHash, sshKeys: o.sshKeys, wifi: o.wifi, release,
    }));
    await put('ssh', '');
    await put('userconf.txt', userconfLine(o.user, o.passwordHash));
    await put('config.txt', withConfigBlock(configTxt, uartConfigLines(settings.profile)));
    await put('cmdline.txt', withFirstRun(cmdlineTxt, { firstRunPath: `${o.firmwarePath}/${FIRSTRUN_FILE}`, keepSerialConsole: o.keepSerialConsole }));
    return { release: o.releaseName, profile: settings.profile, heapMb: settings.heapMb, written, warnings };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

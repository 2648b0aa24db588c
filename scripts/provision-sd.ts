// `npm run provision-sd -- --boot /media/$USER/bootfs --hostname pi-01 --user admin --password-file pw.txt
//    --bundle dist-bundle/edgepeer-<v>-linux-arm64.tar.gz --network net --board org1-board1 --profile raspberry-pi-4`
// Prepares a freshly flashed Raspberry Pi OS card (its boot partition, mounted or as an image file) so
// that the board comes up on its first boot with ssh, its user, its UART and edgepeer running.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { collect, wholeNumber } from '../src/cli/options.js';
import { releaseName } from '../src/deploy/boardLayout.js';
import { readBundleFile } from '../src/deploy/bundleFile.js';
import { DEFAULT_STATUS_INTERVAL_MS } from '../src/deploy/deployBoard.js';
import { DEFAULT_BOARD_METRICS_PORT, KEEP_GOSSIP_ADDRESSES, type InventoryBoard } from '../src/deploy/inventory.js';
import { runChecked } from '../src/deploy/runCommand.js';
import { checkWifiCountry, wpaPsk } from '../src/provision/bootConfig.js';
import { openBootPartition } from '../src/provision/bootPartition.js';
import { DEFAULT_FIRMWARE_PATH, provisionSd } from '../src/provision/provisionSd.js';

interface ProvisionCliOptions {
  boot?: string;
  image?: string;
  hostname: string;
  user: string;
  passwordHash?: string;
  passwordFile?: string;
  sshKey?: string[];
  wifiSsid?: string;
  wifiPasswordFile?: string;
  wifiCountry?: string;
  bundle: string;
  network: string;
  board: string;
  profile?: string;
  orderer?: string[];
  heapMb?: number;
  console?: string | true;
  firmwarePath: string;
  keepSerialConsole?: boolean;
  allowLoopback?: boolean;
  json?: boolean;
}

const WIFI_PASSWORD_ENV = 'EDGEPEER_WIFI_PASSWORD';

/** First line of a file, without its line end: passwords are kept out of argv and shell history. */
function firstLine(path: string, what: string): string {
  const line = readFileSync(path, 'utf8').split(/\r?\n/)[0] ?? '';
  if (line === '') throw new Error(`${what} file ${path} is empty`);
  return line;
}

async function hashPassword(password: string): Promise<string> {
  // The password goes on standard input, not on openssl's command line.
  const r = await runChecked('openssl', ['passwd', '-6', '-stdin'], { input: `${password}\n` });
  return r.stdout.trim();
}

async function main(): Promise<void> {
  const program = new Command('provision-sd')
    .description('prepare a Raspberry Pi OS boot partition (mounted folder or image file) for a board\'s first boot')
    .option('--boot <dir>', 'the mounted boot partition (bootfs)')
    .option('--image <file>', 'an image file: the FAT boot partition alone, or a whole SD-card image (changed in place, nothing mounted)')
    .requiredOption('--hostname <name>', "the board's host name")
    .requiredOption('--user <name>', 'login user (userconf.txt)')
    .option('--password-hash <hash>', 'its password as a crypt hash (openssl passwd -6)')
    .option('--password-file <file>', 'its password, first line of this file (hashed here with openssl passwd -6)')
    .option('--ssh-key <file>', 'authorize this public key; password login over ssh is then turned off (repeatable)', collect)
    .option('--wifi-ssid <ssid>', 'Wi-Fi network')
    .option('--wifi-password-file <file>', `Wi-Fi passphrase, first line of this file (or env ${WIFI_PASSWORD_ENV}); only its WPA key goes on the card`)
    .option('--wifi-country <cc>', 'Wi-Fi regulatory country, two letters (required with --wifi-ssid)')
    .requiredOption('--bundle <tarball>', 'made by `npm run bundle` for the board\'s target')
    .requiredOption('--network <dir>', 'the network folder made by `edgepeer init`')
    .requiredOption('--board <id>', 'board id this card is for')
    .option('--profile <name>', "board profile (default: the board.json's)")
    .option('--orderer <endpoint>', 'orderer endpoint written into board.json (repeatable; default: the board.json\'s)', collect)
    .option('--heap-mb <n>', 'Node heap cap (default: from the profile\'s RAM)', wholeNumber)
    .option('--console [device]', "edgepeer's serial console: the profile's UART, or this device[@baud]")
    .option('--firmware-path <path>', 'where the OS mounts the boot partition (Bullseye and older: /boot)', DEFAULT_FIRMWARE_PATH)
    .option('--keep-serial-console', "keep Linux's console on the UART (cmdline.txt console=serial0)")
    .option('--allow-loopback', "write init's loopback orderer and gossip addresses anyway (a lab on one host); refused otherwise")
    .option('--json', 'print the result as one JSON object')
    .showHelpAfterError();
  program.parse(process.argv);
  const o = program.opts<ProvisionCliOptions>();
  if ((o.boot === undefined) === (o.image === undefined)) throw new InvalidArgumentError('give exactly one of --boot and --image');
  if ((o.passwordHash === undefined) === (o.passwordFile === undefined)) throw new InvalidArgumentError('give exactly one of --password-hash and --password-file');
  const passwordHash = o.passwordHash ?? await hashPassword(firstLine(o.passwordFile!, 'password'));
  let wifi: { ssid: string; psk: string; country: string } | null = null;
  if (o.wifiSsid !== undefined) {
    if (o.wifiCountry === undefined) throw new InvalidArgumentError('--wifi-country is required with --wifi-ssid');
    const pass = o.wifiPasswordFile !== undefined ? firstLine(o.wifiPasswordFile, 'Wi-Fi password') : process.env[WIFI_PASSWORD_ENV];
    if (pass === undefined) throw new InvalidArgumentError(`--wifi-ssid needs --wifi-password-file or env ${WIFI_PASSWORD_ENV}`);
    wifi = { ssid: o.wifiSsid, psk: wpaPsk(o.wifiSsid, pass), country: checkWifiCountry(o.wifiCountry) };
  }
  const sshKeys = (o.sshKey ?? []).map((f) => firstLine(f, 'ssh public key'));
  const boot = openBootPartition(resolve(o.boot ?? o.image!));
  const bundle = await readBundleFile(resolve(o.bundle));
  const board: InventoryBoard = {
    board: o.board, host: o.hostname, user: o.user, port: 22, profile: o.profile ?? null, orderers: o.orderer ?? null,
    memoryMb: null, heapMb: o.heapMb ?? null, metricsPort: DEFAULT_BOARD_METRICS_PORT, console: o.console ?? false, peerArgs: '',
    gossip: KEEP_GOSSIP_ADDRESSES,
  };
  const r = await provisionSd({
    boot, bundle, networkDir: resolve(o.network), board, user: o.user, passwordHash, sshKeys, wifi,
    firmwarePath: o.firmwarePath, keepSerialConsole: o.keepSerialConsole === true, statusIntervalMs: DEFAULT_STATUS_INTERVAL_MS,
    releaseName: releaseName(new Date(), bundle.manifest.version, bundle.manifest.target),
    allowLoopback: o.allowLoopback === true,
  });
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ boot: boot.description, ...r })}\n`);
    return;
  }
  process.stdout.write(`${boot.description}: ${o.board} (${r.profile}, heap ${r.heapMb} MB) as ${o.hostname}, release ${r.release}\n`);
  for (const f of r.written) process.stdout.write(`  wrote ${f}\n`);
  for (const w of r.warnings) process.stdout.write(`  warning: ${w}\n`);
  process.stdout.write('On its first boot the board installs edgepeer, removes the payload and reboots; the log stays in edgepeer-firstrun.log on the boot partition.\n');
}

main().catch((err: unknown) => {
  process.stderr.write(`provision-sd: ${(err as Error).message}\n`);
  process.exit(err instanceof InvalidArgumentError ? 2 : 1);
});

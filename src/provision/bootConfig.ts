// Edits of the Raspberry Pi OS boot partition's text files, as pure functions (the tests feed them the
// files of real images' boot partitions). Each is idempotent: provisioning a card twice gives the same files.
import { pbkdf2Sync } from 'node:crypto';

export const CONFIG_BLOCK_BEGIN = '# edgepeer: begin (written by provision-sd; edits between these lines are replaced)';
export const CONFIG_BLOCK_END = '# edgepeer: end';

/** config.txt lines each board model needs for edgepeer's console UART on GPIO 14/15. */
export function uartConfigLines(profile: string): string[] {
  const lines = ['enable_uart=1'];
  // On a Pi 5, enable_uart=1 is the 3-pin debug UART; GPIO 14/15 are UART0 (/dev/ttyAMA0), enabled apart.
  if (profile === 'raspberry-pi-5') lines.push('dtparam=uart0=on');
  return lines;
}

/** config.txt with edgepeer's block (in an [all] section) replaced or appended. */
export function withConfigBlock(configTxt: string, lines: readonly string[]): string {
  const block = [CONFIG_BLOCK_BEGIN, '[all]', ...lines, CONFIG_BLOCK_END].join('\n');
  const begin = configTxt.indexOf(CONFIG_BLOCK_BEGIN);
  const end = configTxt.indexOf(CONFIG_BLOCK_END);
  if (begin >= 0 && end > begin) {
    return `${configTxt.slice(0, begin)}${block}${configTxt.slice(end + CONFIG_BLOCK_END.length)}`;
  }
  const base = configTxt.endsWith('\n') || configTxt === '' ? configTxt : `${configTxt}\n`;
  return `${base}\n${block}\n`;
}

const SERIAL_CONSOLE = /^console=(serial0|ttyAMA0|ttyS0|ttyAMA10)(,.*)?$/;
const FIRSTRUN_TOKENS = /^(systemd\.run=|systemd\.run_success_action=|systemd\.run_failure_action=|systemd\.unit=kernel-command-line\.target$)/;

export interface CmdlineOptions {
  /** Where firstrun.sh is when the board boots (/boot/firmware/firstrun.sh on Bookworm). */
  firstRunPath: string;
  /** Keep Linux's console on the UART (then edgepeer should not use it as its console). */
  keepSerialConsole: boolean;
}

/**
 * cmdline.txt (one line): without the serial console (the UART is edgepeer's) unless kept, and with the
 * first-boot hook the way Raspberry Pi Imager adds it; an earlier hook is replaced, not doubled.
 */
export function withFirstRun(cmdlineTxt: string, o: CmdlineOptions): string {
  const words = cmdlineTxt.replace(/\r?\n/g, ' ').split(' ').filter((w) => w !== '');
  if (words.length === 0) throw new Error('cmdline.txt is empty: not a Raspberry Pi OS boot partition?');
  const kept = words.filter((w) => !FIRSTRUN_TOKENS.test(w) && (o.keepSerialConsole || !SERIAL_CONSOLE.test(w)));
  kept.push(`systemd.run=${o.firstRunPath}`, 'systemd.run_success_action=reboot', 'systemd.unit=kernel-command-line.target');
  return `${kept.join(' ')}\n`;
}

/** userconf.txt: `user:hash`, read by Raspberry Pi OS on first boot (userconfig.service). */
export function userconfLine(user: string, passwordHash: string): string {
  if (!/^[a-z_][a-z0-9_-]{0,31}$/.test(user)) throw new Error(`user name '${user}' is not a valid Linux user name`);
  if (!/^\$(1|5|6|y|2[aby])\$[^:\s]+$/.test(passwordHash)) throw new Error('the password hash must be a crypt(3) hash (openssl passwd -6)');
  return `${user}:${passwordHash}\n`;
}

const WPA_PSK_ITERATIONS = 4096;
const WPA_PSK_BYTES = 32;

/** The WPA2 pre-shared key (what wpa_passphrase prints): the passphrase itself never goes on the card. */
export function wpaPsk(ssid: string, passphrase: string): string {
  if (passphrase.length < 8 || passphrase.length > 63) throw new Error('a WPA passphrase has 8 to 63 characters');
  return pbkdf2Sync(passphrase, ssid, WPA_PSK_ITERATIONS, WPA_PSK_BYTES, 'sha1').toString('hex');
}

export function checkHostname(name: string): string {
  if (!/^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(name)) throw new Error(`'${name}' is not a valid host name (letters, digits, inner hyphens)`);
  return name;
}

export function checkWifiCountry(cc: string): string {
  if (!/^[A-Z]{2}$/.test(cc)) throw new Error(`Wi-Fi country '${cc}' must be a two-letter ISO 3166 code (DE, GB, US, ...)`);
  return cc;
}

// `edgepeer boards`: the board profiles this package ships (boards/*.json), and `edgepeer boards check FILE`
// to validate a profile and see which GPIO line, and which header pin, each LED ends up on.
import type { Command } from 'commander';
import { describePin, headerPinOf } from '../../board/pins.js';
import { type BoardProfile, type LedPins, STATUS_LEDS, loadProfile, profileNames, profilesDir, readProfileFile } from '../../board/profile.js';

const EXIT_INVALID = 1;

interface PinJson {
  /** As written in the profile. */
  name: string;
  bcm: number;
  header: number | null;
}

export interface ProfileJson {
  ok: true;
  name: string;
  description: string;
  model: string | null;
  source: string;
  io: BoardProfile['io'];
  console: BoardProfile['console'];
  refreshMs: number;
  leds: { link: PinJson; sync: PinJson; leader: PinJson; error: PinJson; height: PinJson[] };
}

export interface ProfileErrorJson {
  ok: false;
  source: string;
  error: string;
}

const pinJson = (name: string, bcm: number): PinJson => ({ name, bcm, header: headerPinOf(bcm) });

export function profileJson(p: BoardProfile): ProfileJson {
  const pins: LedPins = p.pins;
  return {
    ok: true, name: p.name, description: p.description, model: p.model, source: p.source, io: p.io, console: p.console, refreshMs: p.refreshMs,
    leds: {
      link: pinJson(p.leds.link, pins.link),
      sync: pinJson(p.leds.sync, pins.sync),
      leader: pinJson(p.leds.leader, pins.leader),
      error: pinJson(p.leds.error, pins.error),
      height: p.leds.height.map((n, i) => pinJson(n, pins.height[i]!)),
    },
  };
}

function ioText(p: BoardProfile): string {
  if (p.io.plugin !== 'gpiod') return p.io.plugin;
  return p.io.chip !== undefined ? `gpiod on ${p.io.chip}` : `gpiod on the chip labelled ${p.io.chipLabel ?? '?'}`;
}

/** A profile as lines for people: what each LED pin resolves to. */
export function profileLines(p: BoardProfile): string[] {
  const row = (what: string, written: string, bcm: number): string => `  ${what.padEnd(10)} ${written.padEnd(8)} → ${describePin(bcm)}`;
  return [
    `${p.source}: ok`,
    `  name       ${p.name}: ${p.description}`,
    `  io         ${ioText(p)}`,
    `  console    ${p.console.uart} at ${p.console.baudRate} baud${p.console.pins.length > 0 ? ` on ${p.console.pins.join(', ')}` : ''}`,
    `  refresh    every ${p.refreshMs} ms`,
    ...STATUS_LEDS.map((led) => row(led, p.leds[led], p.pins[led])),
    ...p.leds.height.map((n, i) => row(`height[${i}]`, n, p.pins.height[i]!)),
  ];
}

function listProfiles(json: boolean): void {
  const dir = profilesDir();
  const results = profileNames(dir).map((name): ProfileJson | ProfileErrorJson => {
    const source = `${dir}${name}.json`;
    try {
      const p = readProfileFile(source);
      if (p.name !== name) return { ok: false, source, error: `name is '${p.name}' but the file is ${name}.json` };
      return profileJson(p);
    } catch (err) {
      return { ok: false, source, error: (err as Error).message };
    }
  });
  if (json) {
    process.stdout.write(`${JSON.stringify({ dir, profiles: results })}\n`);
  } else {
    const width = Math.max(4, ...results.map((r) => (r.ok ? r.name.length : 0)));
    process.stdout.write(`${'NAME'.padEnd(width)}  ${'IO'.padEnd(7)}  ${'CONSOLE'.padEnd(13)}  LEDS  DESCRIPTION\n`);
    for (const r of results) {
      if (!r.ok) {
        process.stdout.write(`invalid: ${r.error}\n`);
        continue;
      }
      process.stdout.write(`${r.name.padEnd(width)}  ${r.io.plugin.padEnd(7)}  ${r.console.uart.padEnd(13)}  ${String(4 + r.leds.height.length).padStart(4)}  ${r.description}\n`);
    }
    process.stdout.write(`(profiles in ${dir}; \`edgepeer boards check FILE\` shows a profile's pins)\n`);
  }
  if (results.some((r) => !r.ok)) process.exitCode = EXIT_INVALID;
}

function checkProfile(file: string, json: boolean): void {
  try {
    // A name as `boards` lists it, or a file: the same lookup as `peer --profile`.
    const p = loadProfile(file);
    process.stdout.write(json ? `${JSON.stringify(profileJson(p))}\n` : `${profileLines(p).join('\n')}\n`);
  } catch (err) {
    if (!json) throw err;
    process.stdout.write(`${JSON.stringify({ ok: false, source: file, error: (err as Error).message } satisfies ProfileErrorJson)}\n`);
    process.exitCode = EXIT_INVALID;
  }
}

export function registerBoards(program: Command): void {
  const boards = program
    .command('boards')
    .description('list the board profiles (boards/*.json): IO backend, console UART, LED pins')
    .option('--json', 'one JSON object: { dir, profiles: [...] }')
    .action((o: { json?: boolean }) => listProfiles(o.json === true));
  boards
    .command('check <profile>')
    .description("validate a board profile (a name `boards` lists, or a file) and show what each LED pin resolves to (exit 1 when it is invalid)")
    .option('--json', 'the profile (or { ok: false, error }) as one JSON object')
    // `boards` has --json too, and commander gives a flag after the subcommand to the parent.
    .action((file: string, o: { json?: boolean }, cmd: Command) => checkProfile(file, o.json === true || cmd.parent?.opts<{ json?: boolean }>().json === true));
}

// Board profiles (boards/<name>.json): which IO backend drives a board model's GPIO, its console UART, and
// which header pins carry the LEDs. Loading checks everything a board needs at start-up, so a bad pin name
// or a pin used twice stops the board with a message naming the file and the field, not later on a write.
import { readFileSync, readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ledDefaults } from './ledDefaults.js';
import { z } from 'zod';
import { mustBe, nonEmptyString, objectErrors, parseConfig, wholeNumber } from '../config/validate.js';
import { type ProfileGossip, multicastOrOffSchema } from '../gossip/gossipSettings.js';
import { PinNameError, describePin, resolvePin } from './pins.js';

export type StatusLed = 'link' | 'sync' | 'leader' | 'error';
export const STATUS_LEDS: readonly StatusLed[] = ['link', 'sync', 'leader', 'error'];

/** virtual: emulation (records every write) · gpiod: Linux GPIO character device · pi-io: pigpio (Pi 4 and older). */
export type IoPluginName = 'virtual' | 'gpiod' | 'pi-io';
export const IO_PLUGINS: readonly IoPluginName[] = ['virtual', 'gpiod', 'pi-io'];

export interface IoConfig {
  plugin: IoPluginName;
  /** gpiod: the chip to use (`gpiochip0`, `/dev/gpiochip4`); default: the one whose label is chipLabel. */
  chip?: string;
  /** gpiod: the label of the chip that carries the header's GPIO lines (`gpiodetect` shows labels). */
  chipLabel?: string;
}

export interface ConsoleConfig {
  /** Device of the serial console (`/dev/serial0`), or `pty` for an emulated board. */
  uart: string;
  baudRate: number;
  /** Header pins the UART uses; no LED may sit on them. */
  pins: string[];
}

/** LED pins as written in a profile or board config. */
export interface LedPinNames {
  link: string;
  sync: string;
  leader: string;
  error: string;
  /** The height bar, LED 0 (least significant bit) first. */
  height: string[];
}

/** LED pins as BCM line numbers. */
export interface LedPins {
  link: number;
  sync: number;
  leader: number;
  error: number;
  height: number[];
}

/** A board's own LED wiring, where it differs from its profile. */
export interface LedPinOverrides {
  link?: string;
  sync?: string;
  leader?: string;
  error?: string;
  /** Replaces the whole height bar (its length may differ from the profile's). */
  height?: string[];
}

export interface BoardProfile {
  name: string;
  description: string;
  /** What /proc/device-tree/model starts with on this board model (hardware-in-the-loop tests check it). */
  model: string | null;
  io: IoConfig;
  console: ConsoleConfig;
  leds: LedPinNames;
  /** Resolved from `leds`. */
  pins: LedPins;
  /** LEDs are recomputed at most this often. */
  refreshMs: number;
  gossip: ProfileGossip;
  /** The file it was read from. */
  source: string;
}

export class BoardProfileError extends Error {
  override readonly name = 'BoardProfileError';
}

/** boards/ of this package: dist/src/board/profile.js → ../../../boards. */
export function profilesDir(): string {
  return fileURLToPath(new URL('../../../boards/', import.meta.url));
}

/** Field failures of pin resolution (after the schema), in the schema's words. */
class ProfileShape {
  constructor(private readonly source: string) {}

  fail(field: string, message: string): never {
    throw new BoardProfileError(`${this.source}: ${field} ${message}`);
  }
}

const ioSchema = z.object({
  plugin: z.enum(IO_PLUGINS as [IoPluginName, ...IoPluginName[]], mustBe(`one of ${IO_PLUGINS.join(', ')}`)),
  chip: nonEmptyString().optional(),
  chipLabel: nonEmptyString().optional(),
}, mustBe('an object')).superRefine((io, ctx) => {
  if (io.plugin === 'gpiod' && io.chip === undefined && io.chipLabel === undefined) {
    ctx.addIssue({ code: 'custom', message: "must name the GPIO chip for the gpiod plugin: 'chip' (gpiochip0) or 'chipLabel' (as gpiodetect shows it)" });
  }
});

const pinNames = z.array(nonEmptyString(), mustBe('an array of pin names'));

/** A board profile file (boards/<name>.json), before its pin names are resolved. */
export const boardProfileSchema = z.object({
  name: nonEmptyString(),
  description: nonEmptyString(),
  model: nonEmptyString().nullable().optional(),
  io: ioSchema,
  console: z.object({ uart: nonEmptyString(), baudRate: wholeNumber(50, 4_000_000), pins: pinNames.optional() }, mustBe('an object')),
  leds: z.object({ link: nonEmptyString(), sync: nonEmptyString(), leader: nonEmptyString(), error: nonEmptyString(), height: pinNames }, mustBe('an object')),
  refreshMs: wholeNumber(ledDefaults.minRefreshMs, ledDefaults.maxRefreshMs).optional(),
  gossip: z.strictObject({ multicast: multicastOrOffSchema.optional() }, objectErrors('an object', "a profile's gossip has only multicast")).optional(),
}, mustBe('an object'));

function pinOf(shape: ProfileShape, name: string, field: string): number {
  try {
    return resolvePin(name);
  } catch (err) {
    if (err instanceof PinNameError) shape.fail(field, `is wrong: ${err.message}`);
    throw err;
  }
}

/** Resolves LED pin names to BCM lines; no pin twice, none on the console UART's pins. */
export function resolveLedPins(names: LedPinNames, consolePins: readonly string[], source: string): LedPins {
  const shape = new ProfileShape(source);
  const used = new Map<number, string>();
  consolePins.forEach((p, i) => used.set(pinOf(shape, p, `console.pins[${i}]`), `console.pins[${i}] (the console UART)`));
  const take = (name: string, field: string): number => {
    const bcm = pinOf(shape, name, field);
    const other = used.get(bcm);
    if (other !== undefined) shape.fail(field, `('${name}') is ${describePin(bcm)}, already used by ${other}`);
    used.set(bcm, field);
    return bcm;
  };
  if (names.height.length < 1 || names.height.length > ledDefaults.maxHeightLeds) {
    shape.fail('leds.height', `must list 1 to ${ledDefaults.maxHeightLeds} pins (it lists ${names.height.length})`);
  }
  return {
    link: take(names.link, 'leds.link'),
    sync: take(names.sync, 'leds.sync'),
    leader: take(names.leader, 'leds.leader'),
    error: take(names.error, 'leds.error'),
    height: names.height.map((n, i) => take(n, `leds.height[${i}]`)),
  };
}

/** Checks a parsed profile file; `source` (the file) goes into every message. */
export function parseProfile(value: unknown, source: string): BoardProfile {
  const p = parseConfig(boardProfileSchema, value, source, (message) => {
    throw new BoardProfileError(message);
  });
  const io: IoConfig = { plugin: p.io.plugin };
  if (p.io.chip !== undefined) io.chip = p.io.chip;
  if (p.io.chipLabel !== undefined) io.chipLabel = p.io.chipLabel;
  const consoleConfig: ConsoleConfig = { uart: p.console.uart, baudRate: p.console.baudRate, pins: p.console.pins ?? [] };
  const multicast = p.gossip?.multicast;
  return {
    name: p.name,
    description: p.description,
    model: p.model ?? null,
    io,
    console: consoleConfig,
    leds: p.leds,
    pins: resolveLedPins(p.leds, consoleConfig.pins, source),
    refreshMs: p.refreshMs ?? ledDefaults.refreshMs,
    gossip: { multicast: multicast === undefined || multicast === false ? null : multicast },
    source,
  };
}

/** Reads and checks one profile file. */
export function readProfileFile(path: string): BoardProfile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new BoardProfileError(e.code === 'ENOENT' ? `board profile ${path} does not exist` : `cannot read board profile ${path}: ${e.message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new BoardProfileError(`board profile ${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parseProfile(json, path);
}

/** Names of the profiles in `dir`, sorted. */
export function profileNames(dir: string = profilesDir()): string[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch (err) {
    throw new BoardProfileError(`cannot list board profiles in ${dir}: ${(err as Error).message}`);
  }
  return entries.filter((f) => f.endsWith('.json')).map((f) => basename(f, '.json')).sort();
}

/** A name is looked up in `dir`; anything with a slash or ending in .json is a file path. */
export function isProfilePath(nameOrPath: string): boolean {
  return nameOrPath.includes('/') || nameOrPath.endsWith('.json');
}

/** A profile by name (boards/<name>.json) or by file path. */
export function loadProfile(nameOrPath: string, dir: string = profilesDir()): BoardProfile {
  if (isProfilePath(nameOrPath)) return readProfileFile(nameOrPath);
  const names = profileNames(dir);
  if (!names.includes(nameOrPath)) {
    throw new BoardProfileError(`no board profile '${nameOrPath}' in ${dir} (profiles: ${names.join(', ') || 'none'}); give a name or a file path`);
  }
  const profile = readProfileFile(join(dir, `${nameOrPath}.json`));
  if (profile.name !== nameOrPath) {
    throw new BoardProfileError(`${profile.source}: name is '${profile.name}' but the file is ${nameOrPath}.json; they must match`);
  }
  return profile;
}

/** The profile with a board's own pins in place of the profile's, checked as a whole again. */
export function withPinOverrides(profile: BoardProfile, overrides: LedPinOverrides | undefined, overridesSource: string): BoardProfile {
  if (overrides === undefined || Object.keys(overrides).length === 0) return profile;
  const leds: LedPinNames = { ...profile.leds, ...overrides, height: overrides.height ?? profile.leds.height };
  return { ...profile, leds, pins: resolveLedPins(leds, profile.console.pins, `${overridesSource} (pins, over profile ${profile.name})`) };
}

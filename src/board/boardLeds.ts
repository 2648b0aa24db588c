// A board's LEDs from its profile: picks the profile (name or file) and the board's own pin overrides,
// opens the IO backend the profile names, and starts the driver.
import type { LedPinOverrides } from './profile.js';
import type { Clock } from '../config/clock.js';
import type { Logger } from '../observability/logger.js';
import { type OpenBoardIoOptions, openBoardIo } from './io/openBoardIo.js';
import { LedDriver, type LedSource } from './ledDriver.js';
import { type BoardProfile, loadProfile, withPinOverrides } from './profile.js';
import { describePin } from './pins.js';

/** The profile a board runs with: `nameOrPath` (a profile name or file) with the board config's pins over it. */
export function boardProfile(nameOrPath: string, overrides: LedPinOverrides | undefined, overridesSource: string): BoardProfile {
  return withPinOverrides(loadProfile(nameOrPath), overrides, overridesSource);
}

export interface StartBoardLedsOptions {
  profile: BoardProfile;
  source: LedSource;
  log: Logger;
  clock?: Clock;
  io?: OpenBoardIoOptions;
}

/** Opens the profile's IO and starts the LEDs. Fails (with the backend's reason) when the IO cannot be opened. */
export async function startBoardLeds(o: StartBoardLedsOptions): Promise<LedDriver> {
  const p = o.profile;
  const boardIo = await openBoardIo(p, { log: o.log, ...o.io });
  try {
    const driver = await LedDriver.start({
      boardIo, pins: p.pins, source: o.source, refreshMs: p.refreshMs, log: o.log, ...(o.clock !== undefined ? { clock: o.clock } : {}),
    });
    o.log.info({
      profile: p.name, io: p.io.plugin, link: describePin(p.pins.link), sync: describePin(p.pins.sync), leader: describePin(p.pins.leader),
      error: describePin(p.pins.error), height: p.pins.height.map(describePin), refreshMs: p.refreshMs,
    }, 'LEDs running');
    return driver;
  } catch (err) {
    await boardIo.close();
    throw err;
  }
}

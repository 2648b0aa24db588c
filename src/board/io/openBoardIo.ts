// Opens the IO backend a board profile names. Everything that can be wrong with the hardware (a tool
// missing, no permission, no such chip) surfaces here, at start-up, as one clear error.
import type { Logger } from '../../observability/logger.js';
import type { BoardProfile, LedPins } from '../profile.js';
import { type GpiodTools, GpiodIo, gpiodBoardIo, gpiodModeFromEnv } from './gpiodIo.js';
import type { BoardIo } from './ioPlugin.js';
import { openPiIo } from './piIo.js';
import { VirtualIo, virtualBoardIo } from './virtualIo.js';

export interface OpenBoardIoOptions {
  /** For the virtual plugin: the instance to use (a test or the demo watches it). */
  virtual?: VirtualIo;
  /** For the gpiod plugin: where its tools are (tests use stand-ins). */
  gpiodTools?: GpiodTools;
  /** Where the backend reports trouble after start-up (a gpioset that ended and is restarted). */
  log?: Logger;
  /** Where $EDGEPEER_GPIOD_MODE is read (an operator forcing a gpiod mode); default process.env. */
  env?: NodeJS.ProcessEnv;
}

export function ledLines(pins: LedPins): number[] {
  return [pins.link, pins.sync, pins.leader, pins.error, ...pins.height];
}

export async function openBoardIo(profile: BoardProfile, o: OpenBoardIoOptions = {}): Promise<BoardIo> {
  switch (profile.io.plugin) {
    case 'virtual':
      return virtualBoardIo(o.virtual ?? new VirtualIo());
    case 'gpiod': {
      const io = await GpiodIo.open({
        ...(profile.io.chip !== undefined ? { chip: profile.io.chip } : {}),
        ...(profile.io.chipLabel !== undefined ? { chipLabel: profile.io.chipLabel } : {}),
        lines: ledLines(profile.pins),
        mode: gpiodModeFromEnv(o.env ?? process.env),
        ...(o.gpiodTools !== undefined ? { tools: o.gpiodTools } : {}),
        ...(o.log !== undefined ? { log: o.log } : {}),
      });
      return gpiodBoardIo(io);
    }
    case 'pi-io':
      return openPiIo();
  }
}

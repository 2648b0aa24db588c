// The pigpio-based johnny-five plugin `pi-io`, for operators who prefer it on a Pi 4, Pi 3 or Pi Zero 2 W
// (it needs the pigpio C library and root, and does not run on a Pi 5). It is not a dependency of this
// package: `npm install pi-io` on the Pi. Loaded only when a profile names it.
import type { EventEmitter } from 'node:events';
import type { BoardIo } from './ioPlugin.js';
import { GpioBackendError } from './gpiodIo.js';

/** pi-io that has not said 'ready' after this long has failed (pigpio missing, not root). */
export const PI_IO_READY_TIMEOUT_MS = 10_000;
const PI_IO_MODULE = 'pi-io';

export async function openPiIo(): Promise<BoardIo> {
  let ctor: new () => EventEmitter;
  try {
    // A variable specifier: the module is optional and absent from this package's dependencies.
    const specifier: string = PI_IO_MODULE;
    const mod = (await import(specifier)) as { default?: new () => EventEmitter };
    if (typeof mod.default !== 'function') throw new Error('it exports no plugin class');
    ctor = mod.default;
  } catch (err) {
    throw new GpioBackendError(`the pi-io plugin cannot be loaded (${(err as Error).message}): run 'npm install pi-io' on the Pi (it needs the pigpio C library and root; Pi 4 and older only), or use a profile with io.plugin 'gpiod'`);
  }
  const io = new ctor();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new GpioBackendError(`pi-io not ready after ${PI_IO_READY_TIMEOUT_MS} ms (is pigpio installed, and does this run as root?)`)), PI_IO_READY_TIMEOUT_MS);
    io.once('ready', () => { clearTimeout(timer); resolve(); });
    io.once('error', (err: Error) => { clearTimeout(timer); reject(new GpioBackendError(`pi-io: ${err.message}`)); });
  });
  // pi-io names header lines 'GPIO17' (plain numbers would be read as its own numbering).
  return { io, pinId: (bcm) => `GPIO${bcm}`, close: async () => {} };
}

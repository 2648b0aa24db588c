// The emulated boards' serial consoles: one socat PTY pair per board. The board (`peer --console`)
// writes to one end; the other end, `<demo dir>/consoles/<board>`, is where `edgepeer console` attaches,
// as a laptop would to a real board's UART. Without socat the demo runs without consoles, and says so.
import { mkdir } from 'node:fs/promises';
import type { Logger } from '../observability/logger.js';
import type { DemoLayout } from './demoLayout.js';
import { type PtyPair, findSocat, startPtyPair } from './ptyPair.js';

export interface BoardConsole {
  /** The end the board writes to. */
  boardEnd: string;
  /** The end to watch: `edgepeer console <monitorEnd>`. */
  monitorEnd: string;
  /** socat's PID (it lives as long as the demo). */
  pid: number;
}

export interface BoardConsoles {
  get(boardId: string): BoardConsole | undefined;
  stop(): Promise<void>;
}

export async function startBoardConsoles(layout: DemoLayout, boardIds: readonly string[], log: Logger): Promise<BoardConsoles> {
  const pairs = new Map<string, { pair: PtyPair; console: BoardConsole }>();
  const stop = async (): Promise<void> => {
    await Promise.all([...pairs.values()].map((p) => p.pair.stop()));
  };
  const socat = await findSocat();
  if (socat === undefined) {
    log.warn({}, 'socat is not installed: the boards run without serial consoles (apt-get install socat)');
    return { get: () => undefined, stop };
  }
  await mkdir(layout.consolesDir, { recursive: true });
  try {
    for (const id of boardIds) {
      const ends = layout.boardConsole(id);
      const pair = await startPtyPair(ends.boardEnd, ends.monitorEnd, socat);
      pairs.set(id, { pair, console: { ...ends, pid: pair.pid } });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { get: (id) => pairs.get(id)?.console, stop };
}

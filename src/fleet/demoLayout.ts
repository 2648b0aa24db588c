// Where the demo keeps everything, under one folder that outlives the demo so its data can be inspected.
import { join, resolve } from 'node:path';

export interface DemoLayout {
  dir: string;
  /** The development network (`edgepeer init` layout). */
  networkDir: string;
  /** The orderer's ledgers. */
  ordererDataDir: string;
  logsDir: string;
  /** Logs of what runs inside the demo process (orderer, broker, load generator). */
  demoLogFile: string;
  boardDataDir(boardId: string): string;
  boardLogFile(boardId: string): string;
  /** The boards' serial consoles (PTY pairs). */
  consolesDir: string;
  boardConsole(boardId: string): { boardEnd: string; monitorEnd: string };
}

export function demoLayout(dir: string): DemoLayout {
  const root = resolve(dir);
  const logsDir = join(root, 'logs');
  return {
    dir: root,
    networkDir: join(root, 'network'),
    ordererDataDir: join(root, 'orderer'),
    logsDir,
    demoLogFile: join(logsDir, 'demo.log'),
    boardDataDir: (id) => join(root, 'boards', id),
    boardLogFile: (id) => join(logsDir, `${id}.log`),
    consolesDir: join(root, 'consoles'),
    boardConsole: (id) => ({ boardEnd: join(root, 'consoles', `.${id}.board`), monitorEnd: join(root, 'consoles', id) }),
  };
}

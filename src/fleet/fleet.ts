// The demo's boards: one `edgepeer peer` child process each, started together and stopped together.
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import { type BoardLaunch, BoardProcess, type BoardSpec } from './boardProcess.js';
import { BOARD_STOP_TIMEOUT_MS } from './timings.js';

/** The compiled CLI next to this module: dist/src/fleet/fleet.js -> dist/src/cli/main.js. */
export function edgepeerCliPath(): string {
  return fileURLToPath(new URL('../cli/main.js', import.meta.url));
}

export interface FleetEvents {
  /** A board ended without being asked to. */
  died: [board: BoardProcess];
}

export interface FleetStopResult {
  /** Boards that did not end within the stop timeout and were killed. */
  killed: string[];
}

export class Fleet extends EventEmitter<FleetEvents> {
  private readonly members: BoardProcess[] = [];

  constructor(private readonly specs: readonly BoardSpec[], private readonly launch: BoardLaunch) {
    super();
  }

  /** Spawns every board; their PIDs are known when this returns. */
  start(): void {
    if (this.members.length > 0) throw new Error('fleet already started');
    for (const spec of this.specs) {
      const board = new BoardProcess(spec, this.launch);
      board.on('ended', (_code, _signal, expected) => {
        if (!expected) this.emit('died', board);
      });
      this.members.push(board);
    }
  }

  get boards(): readonly BoardProcess[] {
    return this.members;
  }

  /** Exits from now on are part of stopping, not deaths (Ctrl-C at a terminal signals the children too). */
  markStopping(): void {
    for (const b of this.members) b.markStopping();
  }

  /** SIGTERM to every board at once, then waits for all of them (SIGKILL after `timeoutMs`). */
  async stop(timeoutMs: number = BOARD_STOP_TIMEOUT_MS): Promise<FleetStopResult> {
    this.markStopping();
    const killed = await Promise.all(this.members.map((b) => b.stop(timeoutMs)));
    return { killed: this.members.filter((_, i) => killed[i]).map((b) => b.spec.id) };
  }

  kill(): void {
    for (const b of this.members) b.kill();
  }
}

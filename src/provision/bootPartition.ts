// A Raspberry Pi OS boot partition (FAT), either mounted (a folder) or inside an image file, where it is
// read and written with mtools without mounting anything: no root, no loop device. An image may be the
// bare FAT file system or a whole SD-card image (MBR partition table; the first FAT partition is used).
import { closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runCommand, runChecked } from '../deploy/runCommand.js';

export interface BootPartition {
  /** What it is, for messages. */
  readonly description: string;
  /** A file's bytes, or null when it does not exist. */
  read(name: string): Promise<Buffer | null>;
  /** Creates or replaces a file (folders on the way are made). */
  write(name: string, data: string | Uint8Array): Promise<void>;
  /** Copies a local file in (large payloads: no copy in memory). */
  copyIn(localFile: string, name: string): Promise<void>;
  exists(name: string): Promise<boolean>;
}

export class BootPartitionError extends Error {
  override readonly name = 'BootPartitionError';
}

function checkName(name: string): string {
  if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(name) || name.split('/').includes('..')) {
    throw new BootPartitionError(`'${name}' is not a plain path inside the boot partition`);
  }
  return name;
}

export class MountedBootPartition implements BootPartition {
  readonly description: string;

  constructor(private readonly dir: string) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new BootPartitionError(`${dir} is not a folder`);
    this.description = `boot partition mounted at ${dir}`;
  }

  async read(name: string): Promise<Buffer | null> {
    const p = join(this.dir, checkName(name));
    return existsSync(p) ? readFileSync(p) : null;
  }

  async write(name: string, data: string | Uint8Array): Promise<void> {
    const p = join(this.dir, checkName(name));
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, data);
  }

  async copyIn(localFile: string, name: string): Promise<void> {
    const p = join(this.dir, checkName(name));
    mkdirSync(dirname(p), { recursive: true });
    copyFileSync(localFile, p);
  }

  async exists(name: string): Promise<boolean> {
    return existsSync(join(this.dir, checkName(name)));
  }
}

const SECTOR_BYTES = 512;
const MBR_PARTITION_TABLE = 446;
const MBR_ENTRY_BYTES = 16;
/** MBR partition types of FAT file systems (FAT12, FAT16, FAT16B, FAT32 CHS/LBA, FAT16 LBA). */
const FAT_PARTITION_TYPES = new Set([0x01, 0x04, 0x06, 0x0b, 0x0c, 0x0e]);
const GPT_PROTECTIVE_TYPE = 0xee;

function readSector0(path: string): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const buf = new Uint8Array(SECTOR_BYTES);
    if (readSync(fd, buf, 0, SECTOR_BYTES, 0) < SECTOR_BYTES) throw new BootPartitionError(`${path} is too small to hold a file system`);
    return buf;
  } finally {
    closeSync(fd);
  }
}

function ascii(b: Uint8Array, at: number, len: number): string {
  return Buffer.from(b.subarray(at, at + len)).toString('latin1');
}

/** Byte offset of the FAT file system in an image: 0 for a bare one, the first FAT partition's start otherwise. */
export function fatOffset(sector0: Uint8Array, source: string): number {
  if (sector0[510] !== 0x55 || sector0[511] !== 0xaa) throw new BootPartitionError(`${source}: no boot signature; not a FAT file system or a disk image`);
  // A FAT boot sector names its type at 0x36 (FAT12/16) or 0x52 (FAT32); an MBR has code there.
  if (ascii(sector0, 0x36, 3) === 'FAT' || ascii(sector0, 0x52, 5) === 'FAT32') return 0;
  const view = new DataView(sector0.buffer, sector0.byteOffset, sector0.byteLength);
  for (let i = 0; i < 4; i++) {
    const e = MBR_PARTITION_TABLE + i * MBR_ENTRY_BYTES;
    const type = sector0[e + 4]!;
    if (type === GPT_PROTECTIVE_TYPE) throw new BootPartitionError(`${source}: GPT partition tables are not supported (Raspberry Pi OS images use MBR)`);
    const startLba = view.getUint32(e + 8, true);
    if (FAT_PARTITION_TYPES.has(type) && startLba > 0) return startLba * SECTOR_BYTES;
  }
  throw new BootPartitionError(`${source}: its partition table has no FAT partition`);
}

/** mtools checks disk geometry that images made from files do not have. */
const MTOOLS_ENV = { ...process.env, MTOOLS_SKIP_CHECK: '1' };

export class FatImageBootPartition implements BootPartition {
  readonly description: string;
  private readonly drive: string;

  constructor(private readonly image: string) {
    if (!existsSync(image)) throw new BootPartitionError(`${image} does not exist`);
    const offset = fatOffset(readSector0(image), image);
    this.drive = `${image}@@${offset}`;
    this.description = `FAT image ${image}${offset > 0 ? ` (partition at byte ${offset})` : ''}`;
  }

  private async mtools(command: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return runCommand(command, ['-i', this.drive, ...args], { env: MTOOLS_ENV });
  }

  async read(name: string): Promise<Buffer | null> {
    checkName(name);
    const tmp = mkdtempSync(join(tmpdir(), 'edgepeer-fat-'));
    try {
      const out = join(tmp, 'file');
      // mcopy to a file keeps the bytes exactly (mtype's stdout is text).
      const r = await this.mtools('mcopy', ['-n', `::/${name}`, out]);
      if (r.code !== 0) {
        if (/not found/i.test(r.stderr)) return null;
        throw new BootPartitionError(`mcopy ::/${name} from ${this.image} failed: ${r.stderr.trim()}`);
      }
      return readFileSync(out);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  async write(name: string, data: string | Uint8Array): Promise<void> {
    const tmp = mkdtempSync(join(tmpdir(), 'edgepeer-fat-'));
    try {
      const f = join(tmp, 'file');
      writeFileSync(f, data, { mode: 0o600 });
      await this.copyIn(f, name);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }

  async copyIn(localFile: string, name: string): Promise<void> {
    checkName(name);
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (!(await this.exists(dir))) await runChecked('mmd', ['-i', this.drive, `::/${dir}`], { env: MTOOLS_ENV });
    }
    // -o: overwrite without asking; -D o: the same for name clashes of short names.
    await runChecked('mcopy', ['-i', this.drive, '-o', '-D', 'o', localFile, `::/${name}`], { env: MTOOLS_ENV });
  }

  async exists(name: string): Promise<boolean> {
    const r = await this.mtools('mdir', ['-b', `::/${checkName(name)}`]);
    return r.code === 0;
  }
}

/** A folder is a mounted boot partition; a file is an image. */
export function openBootPartition(path: string): BootPartition {
  if (!existsSync(path)) throw new BootPartitionError(`${path} does not exist`);
  return statSync(path).isDirectory() ? new MountedBootPartition(path) : new FatImageBootPartition(path);
}

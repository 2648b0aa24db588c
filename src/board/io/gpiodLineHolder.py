#!/usr/bin/env python3
# The gpiod backend's line holder where gpioset cannot hold the LED lines for the board's life (libgpiod 1,
# and libgpiod 2 built without --interactive): one process, started once, that requests every LED line as
# an output through libgpiod's Python bindings (Debian/Raspberry Pi OS package python3-libgpiod) and keeps
# them until it is told to exit, its input ends, or it is signalled. See docs/gpio.md, "What the gpiod
# backend holds, and what it costs"; the backend is src/board/io/gpiodIo.ts.
#
#   gpiodLineHolder.py --probe                                  which bindings are there; exit 0, or 2 if none
#   gpiodLineHolder.py --chip CHIP --consumer NAME LINE=V ...   hold LINE (BCM offsets) at V (0/1)
#
# It speaks interactive gpioset's protocol, so the backend drives both with one piece of code: the prompt
# below (no newline) once the lines are held and after each command; `set LINE=V ...` sets the lines
# named (the others keep their level); `exit` releases them. A command it cannot apply is answered by one
# line saying why, then the prompt. Anything that stops it from holding the lines (no bindings, the chip
# missing, permission denied, a line busy) is one line on stderr and a non-zero exit, before any prompt.
#
# Both binding APIs are handled: libgpiod 1.x (bookworm: gpiod.Chip, get_lines, LineBulk.request) and
# libgpiod 2.x (trixie: gpiod.request_lines with LineSettings).
import sys

PROMPT = 'gpioset> '
NAME = 'gpiodLineHolder'
EXIT_FAILED = 1
# No usable bindings: the backend falls back to respawning gpioset.
EXIT_NO_BINDINGS = 2
EXIT_USAGE = 64


def fail(message, code=EXIT_FAILED):
    sys.stderr.write('%s: %s\n' % (NAME, message))
    sys.stderr.flush()
    sys.exit(code)


def os_error_text(err):
    # strerror is what the C library says ("Permission denied"); str() adds "[Errno 13]" noise.
    return getattr(err, 'strerror', None) or str(err)


def load_bindings():
    try:
        import gpiod
    except ImportError as err:
        fail('python3 cannot import gpiod (%s): install python3-libgpiod' % err, EXIT_NO_BINDINGS)
    if hasattr(gpiod, 'request_lines'):
        return gpiod, 2
    if hasattr(gpiod, 'LINE_REQ_DIR_OUT'):
        return gpiod, 1
    # Another module named gpiod (the PyPI package of another author, say) comes first on the path.
    fail('the module gpiod at %s is neither libgpiod 1 nor libgpiod 2 bindings' % getattr(gpiod, '__file__', '?'),
         EXIT_NO_BINDINGS)


def bindings_version(gpiod, api):
    if api == 1 and hasattr(gpiod, 'version_string'):
        return gpiod.version_string()
    return getattr(gpiod, '__version__', 'unknown')


class V1Lines:
    """libgpiod 1.x: a LineBulk, set all at once, in the order of the offsets it was requested with."""

    def __init__(self, gpiod, chip, consumer, levels):
        self.offsets = sorted(levels)
        self.levels = dict(levels)
        # Chip() looks the chip up by name, path, label or number.
        self.chip = gpiod.Chip(chip)
        self.lines = self.chip.get_lines(self.offsets)
        self.lines.request(consumer=consumer, type=gpiod.LINE_REQ_DIR_OUT,
                           default_vals=[self.levels[o] for o in self.offsets])

    def set(self, changes):
        self.levels.update(changes)
        self.lines.set_values([self.levels[o] for o in self.offsets])

    def release(self):
        self.lines.release()
        self.chip.close()


class V2Lines:
    """libgpiod 2.x: one request holding every line; each line starts at its own level."""

    def __init__(self, gpiod, chip, consumer, levels):
        from gpiod.line import Direction, Value
        self.value = {0: Value.INACTIVE, 1: Value.ACTIVE}
        path = chip if chip.startswith('/') else '/dev/' + chip
        config = {o: gpiod.LineSettings(direction=Direction.OUTPUT, output_value=self.value[v]) for o, v in levels.items()}
        self.request = gpiod.request_lines(path, consumer=consumer, config=config)

    def set(self, changes):
        self.request.set_values({o: self.value[v] for o, v in changes.items()})

    def release(self):
        self.request.release()


def parse_levels(words):
    """LINE=V words to {offset: 0|1}; raises ValueError naming the first bad word."""
    levels = {}
    for word in words:
        line, sep, value = word.partition('=')
        if not sep or not line.isdigit() or value not in ('0', '1'):
            raise ValueError("'%s' is not LINE=0 or LINE=1" % word)
        levels[int(line)] = int(value)
    return levels


def prompt():
    sys.stdout.write(PROMPT)
    sys.stdout.flush()


def answer(text):
    sys.stdout.write(text + '\n')
    prompt()


def serve(held, offsets):
    prompt()
    while True:
        line = sys.stdin.readline()
        if line == '':
            # The backend is gone: nobody will tell us anything again.
            return
        words = line.split()
        if not words:
            prompt()
            continue
        if words[0] == 'exit':
            return
        if words[0] != 'set':
            answer("unknown command: '%s'" % words[0])
            continue
        try:
            changes = parse_levels(words[1:])
        except ValueError as err:
            answer(str(err))
            continue
        unknown = sorted(set(changes) - offsets)
        if unknown:
            answer("unknown line: '%d'" % unknown[0])
            continue
        try:
            held.set(changes)
        except OSError as err:
            # The chip went away, or the kernel refused: the backend restarts a holder after its backoff.
            fail('cannot set the lines: %s' % os_error_text(err))
        prompt()


def main(argv):
    if argv == ['--probe']:
        gpiod, api = load_bindings()
        sys.stdout.write('libgpiod python bindings v%d (%s)\n' % (api, bindings_version(gpiod, api)))
        return 0
    chip = consumer = None
    words = []
    i = 0
    while i < len(argv):
        if argv[i] in ('--chip', '--consumer') and i + 1 < len(argv):
            if argv[i] == '--chip':
                chip = argv[i + 1]
            else:
                consumer = argv[i + 1]
            i += 2
            continue
        words.append(argv[i])
        i += 1
    try:
        levels = parse_levels(words)
    except ValueError as err:
        fail(str(err), EXIT_USAGE)
    if chip is None or consumer is None or not levels:
        fail('usage: %s --chip CHIP --consumer NAME LINE=V ... (or --probe)' % NAME, EXIT_USAGE)
    gpiod, api = load_bindings()
    try:
        held = (V1Lines if api == 1 else V2Lines)(gpiod, chip, consumer, levels)
    except (OSError, ValueError) as err:
        fail('cannot request lines %s on %s: %s' % (','.join(str(o) for o in sorted(levels)), chip, os_error_text(err)))
    try:
        serve(held, set(levels))
    except BrokenPipeError:
        # The backend closed our stdout without asking us to exit: it is gone.
        pass
    held.release()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

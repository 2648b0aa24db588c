// Hardware in the loop: the board's console UART. Runs only when EDGEPEER_HIL_BOARD names the profile and
// EDGEPEER_HIL_SERIAL the serial device to use (the profile's UART, or a USB adapter); with
// EDGEPEER_HIL_SERIAL_LOOPBACK=1 (TX wired to RX) the bytes written must come back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SerialPort } from 'serialport';
import { loadProfile } from '../../src/board/profile.js';
import { HIL_SERIAL_ENV, hilBoard, hilSerialDevice, hilSkipReason } from './hilEnv.js';

const LOOPBACK = process.env['EDGEPEER_HIL_SERIAL_LOOPBACK'] === '1';
const LOOPBACK_TIMEOUT_MS = 3_000;

test('HIL: the console UART opens at the profile baud rate and takes a status line (and echoes it on a loopback)', async (t) => {
  const name = hilBoard();
  const device = hilSerialDevice();
  if (name === null) { t.skip(hilSkipReason); return; }
  if (device === null) { t.skip(`hardware-in-the-loop serial: ${HIL_SERIAL_ENV} is not set (e.g. ${HIL_SERIAL_ENV}=${loadProfile(name).console.uart})`); return; }
  const profile = loadProfile(name);
  const port = new SerialPort({ path: device, baudRate: profile.console.baudRate, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(new Error(`cannot open ${device}: ${err.message} (is this user in the dialout group?)`)) : resolve())));
  try {
    const line = `edgepeer-status board=hil-${process.pid} height=0\n`;
    const echoed = LOOPBACK ? new Promise<string>((resolve, reject) => {
      let got = '';
      const timer = setTimeout(() => reject(new Error(`loopback: ${JSON.stringify(got)} of ${JSON.stringify(line)} came back within ${LOOPBACK_TIMEOUT_MS} ms`)), LOOPBACK_TIMEOUT_MS);
      port.on('data', (chunk: Buffer) => {
        got += chunk.toString('latin1');
        if (got.includes(line)) { clearTimeout(timer); resolve(got); }
      });
    }) : null;
    await new Promise<void>((resolve, reject) => port.write(line, (err) => (err ? reject(err) : resolve())));
    await new Promise<void>((resolve, reject) => port.drain((err) => (err ? reject(err) : resolve())));
    if (echoed !== null) assert.ok((await echoed).includes(line));
    else t.diagnostic('written; set EDGEPEER_HIL_SERIAL_LOOPBACK=1 with TX wired to RX to check it comes back');
  } finally {
    await new Promise<void>((resolve) => port.close(() => resolve()));
  }
});

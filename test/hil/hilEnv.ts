// Which board the hardware-in-the-loop suite runs on: named by the environment, or none (then every HIL test
// is skipped, with this reason printed).
export const HIL_BOARD_ENV = 'EDGEPEER_HIL_BOARD';
export const HIL_SERIAL_ENV = 'EDGEPEER_HIL_SERIAL';

export const hilSkipReason = `hardware-in-the-loop: ${HIL_BOARD_ENV} is not set; on a Pi, set it to the board's profile (\`edgepeer boards\`), e.g. ${HIL_BOARD_ENV}=raspberry-pi-5 npm test -- hil (README: Hardware-in-the-loop tests)`;

export function hilBoard(): string | null {
  const v = process.env[HIL_BOARD_ENV];
  return v === undefined || v === '' ? null : v;
}

export function hilSerialDevice(): string | null {
  const v = process.env[HIL_SERIAL_ENV];
  return v === undefined || v === '' ? null : v;
}

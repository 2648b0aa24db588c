// Fabric's identity signature check (src/fabric/ecdsaVerify.ts) with node:crypto keys: low-S signatures
// verify under the MSP's hash family and only over their message; the high-S twin of a good signature is
// refused as Fabric refuses it; r out of range does not verify (it is not thrown about); DER Go would
// not read, keys that are not ECDSA and curves Fabric has no order for are refused with the reason.
import assert from 'node:assert/strict';
import { type KeyObject, generateKeyPairSync, sign } from 'node:crypto';
import { test } from 'node:test';
import { ecdsaSignatureValues, encodeEcdsaSignature } from '../../../src/fabric/der.js';
import { SignatureError, curveOrder, isLowS, toLowS, verifyFabricSignature } from '../../../src/fabric/ecdsaVerify.js';

const MESSAGE = Buffer.from('a Fabric envelope payload');
const P256 = curveOrder('prime256v1')!;

/** A signature over `message` in the form a Fabric client sends: DER, low S. */
function fabricSign(privateKey: KeyObject, message: Uint8Array, digest = 'sha256'): { der: Uint8Array; r: bigint; s: bigint; n: bigint } {
  const { n } = curveOrder(privateKey.asymmetricKeyDetails!.namedCurve)!;
  const { r, s } = ecdsaSignatureValues(sign(digest, message, privateKey));
  const low = toLowS(s, n);
  return { der: encodeEcdsaSignature(r, low), r, s: low, n };
}

const refused = (message: RegExp) => (e: unknown): boolean => e instanceof SignatureError && message.test(e.message);

test('a low-S signature verifies over its message under SHA2, and not over another message', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  for (let i = 0; i < 16; i++) {
    const message = Buffer.from(`${MESSAGE.toString()} ${i}`);
    const { der } = fabricSign(privateKey, message);
    assert.equal(verifyFabricSignature(publicKey, message, der, 'SHA2'), true);
    assert.equal(verifyFabricSignature(publicKey, Buffer.from(`${message.toString()}!`), der, 'SHA2'), false);
  }
});

test('the high-S twin of a good signature is refused, as Fabric refuses it', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { r, s, n } = fabricSign(privateKey, MESSAGE);
  assert.throws(() => verifyFabricSignature(publicKey, MESSAGE, encodeEcdsaSignature(r, n - s), 'SHA2'),
    refused(/^Invalid S\. Must be smaller than half the order$/));
});

test('the hash family is the MSP\'s: a SHA3-256 signature verifies under SHA3 only, whatever the curve', () => {
  for (const namedCurve of ['P-256', 'P-384']) {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve });
    const { der } = fabricSign(privateKey, MESSAGE, 'sha3-256');
    assert.equal(verifyFabricSignature(publicKey, MESSAGE, der, 'SHA3'), true, namedCurve);
    assert.equal(verifyFabricSignature(publicKey, MESSAGE, der, 'SHA2'), false, namedCurve);
    assert.equal(verifyFabricSignature(publicKey, MESSAGE, fabricSign(privateKey, MESSAGE).der, 'SHA2'), true, namedCurve);
  }
});

// The range and width checks before node:crypto are defence in depth: OpenSSL refuses these too, so
// this test holds with or without them; what it pins is the outcome (false, not an exception).
test('r = n, or r wider than the curve, does not verify and is not thrown about', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { s } = fabricSign(privateKey, MESSAGE);
  assert.equal(verifyFabricSignature(publicKey, MESSAGE, encodeEcdsaSignature(P256.n, s), 'SHA2'), false);
  assert.equal(verifyFabricSignature(publicKey, MESSAGE, encodeEcdsaSignature(1n << 264n, s), 'SHA2'), false);
});

test('DER Go would not read is refused with the reason; so are keys that are not ECDSA and curves with no order here', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const { der } = fabricSign(privateKey, MESSAGE);
  const padded = Uint8Array.from([0x30, der[1]! + 1, 0x02, der[3]! + 1, 0x00, ...der.subarray(4)]);
  assert.throws(() => verifyFabricSignature(publicKey, MESSAGE, padded, 'SHA2'), refused(/^failed unmarshalling signature: integer not minimally-encoded$/));
  assert.throws(() => verifyFabricSignature(publicKey, MESSAGE, new Uint8Array(0), 'SHA2'), refused(/^failed unmarshalling signature: truncated DER element$/));
  const ed = generateKeyPairSync('ed25519').publicKey;
  assert.throws(() => verifyFabricSignature(ed, MESSAGE, der, 'SHA2'), refused(/^unsupported public key type ed25519/));
  const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey;
  assert.throws(() => verifyFabricSignature(k1, MESSAGE, der, 'SHA2'), refused(/^unsupported curve secp256k1$/));
});

test('isLowS and toLowS at the half order', () => {
  const half = P256.n >> 1n;
  assert.equal(isLowS(half, P256.n), true);
  assert.equal(isLowS(half + 1n, P256.n), false);
  assert.equal(toLowS(half + 1n, P256.n), P256.n - half - 1n);
  assert.equal(toLowS(5n, P256.n), 5n);
});

/**
 * Detached Ed25519 signatures over the exact bytes of catalog.json (RFC 8032, through node:crypto). The signature
 * file holds the 64-byte signature in base64. Keys are named by keyId `ed25519-<first 16 hex digits of the
 * SHA-256 of the raw 32-byte public key>`, so an id cannot silently point at another key.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { CatalogKeyError } from './catalog-errors.ts';

/** A public key the app accepts catalogs from. `publicKey`: base64 of the raw 32 bytes, or a PEM SPKI block. */
export interface CatalogKey {
  keyId: string;
  publicKey: string;
}

/** Signatures are exactly 64 bytes; anything else in the .sig file is refused before verifying. */
const SIGNATURE_BASE64 = /^[A-Za-z0-9+/]{86}==$/;

export function importCatalogPublicKey(publicKey: string, label: string): KeyObject {
  let key: KeyObject;
  try {
    const text = publicKey.trim();
    if (text.startsWith('-----BEGIN')) {
      key = createPublicKey(text);
    } else {
      const raw = Buffer.from(text, 'base64');
      if (raw.length !== 32) throw new Error(`raw Ed25519 public keys are 32 bytes, got ${raw.length}`);
      key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
    }
  } catch (err) {
    throw new CatalogKeyError(label, `not an Ed25519 public key (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new CatalogKeyError(label, `is a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`);
  return key;
}

export function importCatalogPrivateKey(pem: string, label: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    throw new CatalogKeyError(label, `not a PEM private key (${(err as Error).message})`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new CatalogKeyError(label, `is a ${key.asymmetricKeyType ?? 'unknown'} key, not Ed25519`);
  return key;
}

/** The raw 32-byte public key, base64: the form TRUSTED_CATALOG_KEYS pins. */
export function exportRawPublicKey(key: KeyObject): string {
  const jwk = (key.type === 'private' ? createPublicKey(key) : key).export({ format: 'jwk' });
  return Buffer.from(jwk.x ?? '', 'base64url').toString('base64');
}

export function computeCatalogKeyId(key: KeyObject): string {
  const raw = Buffer.from(exportRawPublicKey(key), 'base64');
  return `ed25519-${createHash('sha256').update(raw).digest('hex').slice(0, 16)}`;
}

/** Signs the exact bytes given; returns the base64 signature text to store in catalog.json.sig. */
export function signCatalogBytes(bytes: Uint8Array, privateKey: KeyObject): string {
  return sign(null, bytes, privateKey).toString('base64') + '\n';
}

/**
 * The keys among `keys` whose signature over `bytes` verifies (normally one). Refuses a malformed signature text
 * without trying any key.
 */
export function findVerifyingKeys(bytes: Uint8Array, signatureText: string, keys: readonly CatalogKey[]): CatalogKey[] {
  const text = signatureText.trim();
  if (!SIGNATURE_BASE64.test(text)) return [];
  const signature = Buffer.from(text, 'base64');
  return keys.filter((k) => verify(null, bytes, importCatalogPublicKey(k.publicKey, `catalog key ${k.keyId}`), signature));
}

export interface CatalogKeyPair {
  keyId: string;
  privateKeyPem: string;
  publicKeyPem: string;
  /** Raw public key, base64, for TRUSTED_CATALOG_KEYS. */
  publicKeyRaw: string;
}

export function generateCatalogKeyPair(): CatalogKeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    keyId: computeCatalogKeyId(publicKey),
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    publicKeyRaw: exportRawPublicKey(publicKey),
  };
}

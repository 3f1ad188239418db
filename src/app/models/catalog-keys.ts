/**
 * Public keys the app accepts model catalogs from, pinned in the source so that a catalog, a mirror or a config
 * file alone cannot add a signer.
 *
 * Key rotation (what must stay true: every released app can verify every catalog published while it is current):
 *   1. Generate the new key with `fooocus catalog keygen <dir>` on the maintainers' signing machine.
 *   2. Release an app version that has BOTH the old and the new key in this list; keep signing with the old key.
 *   3. Once that release has been out long enough for users to update, sign catalogs with the new key (the
 *      catalog's top-level `keyId` names it) and raise the catalog `version` as with any change.
 *   4. In a later release remove the old key. A compromised key is removed at once, in an immediate release,
 *      together with a catalog version bump signed by the new key so that replays of old catalogs are refused.
 * The catalog's `keyId` selects the key: a catalog is accepted only if its signature verifies with a key in this
 * list (or one the user added explicitly) AND that key's id equals the catalog's `keyId`.
 */
import type { CatalogKey } from './catalog-signature.ts';

export const TRUSTED_CATALOG_KEYS: readonly CatalogKey[] = [
  {
    // Project catalog key 2, signing catalog version 2 onwards. Key 1 (ed25519-66741aaea1b5db8e) was removed at
    // once, as step 4 above says for a compromised key: its private half went with the old signing machine, whose
    // fate is unknown, so it can no longer be trusted.
    keyId: 'ed25519-b7d177a173ed37cf',
    publicKey: 'V1cIca3bxum8Tbt3xQDDyOld7ytsUA0m/tX4iLmrM8Y=',
  },
];

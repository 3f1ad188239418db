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
 *      A lost key (its private half gone, so step 2's transition cannot be signed) is handled the same way: its
 *      fate is unknown, so it is treated as compromised.
 * The catalog's `keyId` selects the key: a catalog is accepted only if its signature verifies with a key in this
 * list (or one the user added explicitly) AND that key's id equals the catalog's `keyId`.
 */
import type { CatalogKey } from './catalog-signature.ts';

export const TRUSTED_CATALOG_KEYS: readonly CatalogKey[] = [
  {
    // Project catalog key 3, signing catalog version 3 onwards. Key 2 (ed25519-b7d177a173ed37cf) was removed at
    // once, as step 4 above says for a compromised key: its private half was lost, so no transition release could
    // be signed with it, and a key whose private half is out of the maintainers' hands can no longer be trusted.
    // Key 1 (ed25519-66741aaea1b5db8e) was removed the same way before it.
    keyId: 'ed25519-2c32acc5e5030a89',
    publicKey: 'PKUIIpQWtNsaAMqDvWPXkWJyT+WHJWHixGDV9peZxUQ=',
  },
];

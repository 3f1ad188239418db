/**
 * Style names with a meaning of their own: they are selectable like styles but are not entries of the library.
 */

/** Picks one library style per image from the image's seed. */
export const RANDOM_STYLE_NAME = 'Random Style';

/** Turns on prompt expansion (our counterpart of Fooocus's "Fooocus V2"). */
export const EXPANSION_STYLE_NAME = 'FooocusTS Expansion';

/** Fooocus's name for its expansion, accepted so presets and metadata from Fooocus keep their meaning. */
export const FOOOCUS_EXPANSION_STYLE_NAME = 'Fooocus V2';

export const RESERVED_STYLE_NAMES: readonly string[] = [RANDOM_STYLE_NAME, EXPANSION_STYLE_NAME, FOOOCUS_EXPANSION_STYLE_NAME];

export function isExpansionStyleName(name: string): boolean {
  return name === EXPANSION_STYLE_NAME || name === FOOOCUS_EXPANSION_STYLE_NAME;
}

export function isReservedStyleName(name: string): boolean {
  return RESERVED_STYLE_NAMES.includes(name);
}

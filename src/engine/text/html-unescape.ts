/**
 * HTML character-reference decoding with the semantics of Python's `html.unescape` (which CLIP's
 * `basic_clean` applies twice), over a documented subset of the named entities.
 *
 * Matched exactly: the reference grammar (`&#123;`, `&#x7B;`, names of up to 32 characters, optional `;`),
 * numeric edge cases (NUL and surrogates give U+FFFD, 0x80-0x9F read as windows-1252, control and
 * non-character code points are dropped, past U+10FFFF gives U+FFFD), and the HTML5 rule that a handful of
 * legacy names also match without `;` and as the longest prefix of a longer name (`&notit;` is `¬it;`).
 *
 * Named entities covered (the HTML5 list has 2,231; prompts use few):
 * - core: amp lt gt quot apos (and the legacy upper-case AMP LT GT QUOT COPY REG);
 * - the whole Latin-1 block U+00A0-U+00FF (nbsp ... yuml), which is also the HTML5 set of legacy names
 *   accepted without `;`, so semicolon-less references decode exactly as in Python;
 * - HTML 4 "special" characters (OElig ... euro: dashes, curly quotes, daggers, permil, zero-width marks);
 * - the Greek letters (Alpha ... omega) and common symbols (hellip bull trade prime arrows minus fnof ...);
 * - every longer name that begins with a legacy name (`notin`, `ltimes`, ...), so prefix matching is exact.
 * A name outside this list stays as written, where Python would decode it.
 */

/** Latin-1 names in code-point order, U+00A0 to U+00FF. */
const LATIN1_NAMES = (
  'nbsp iexcl cent pound curren yen brvbar sect uml copy ordf laquo not shy reg macr ' +
  'deg plusmn sup2 sup3 acute micro para middot cedil sup1 ordm raquo frac14 frac12 frac34 iquest ' +
  'Agrave Aacute Acirc Atilde Auml Aring AElig Ccedil Egrave Eacute Ecirc Euml Igrave Iacute Icirc Iuml ' +
  'ETH Ntilde Ograve Oacute Ocirc Otilde Ouml times Oslash Ugrave Uacute Ucirc Uuml Yacute THORN szlig ' +
  'agrave aacute acirc atilde auml aring aelig ccedil egrave eacute ecirc euml igrave iacute icirc iuml ' +
  'eth ntilde ograve oacute ocirc otilde ouml divide oslash ugrave uacute ucirc uuml yacute thorn yuml'
).split(' ');

/** Greek capitals U+0391-U+03A9 (U+03A2 is unassigned) and small letters U+03B1-U+03C9. */
const GREEK_CAPITALS = 'Alpha Beta Gamma Delta Epsilon Zeta Eta Theta Iota Kappa Lambda Mu Nu Xi Omicron Pi Rho _ Sigma Tau Upsilon Phi Chi Psi Omega'.split(' ');
const GREEK_SMALL = 'alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigmaf sigma tau upsilon phi chi psi omega'.split(' ');

/** Names that need their `;`, with their code points. */
const OTHER_ENTITIES: Record<string, number> = {
  apos: 0x27, OElig: 0x152, oelig: 0x153, Scaron: 0x160, scaron: 0x161, Yuml: 0x178, fnof: 0x192, circ: 0x2c6,
  tilde: 0x2dc, thetasym: 0x3d1, upsih: 0x3d2, piv: 0x3d6, ensp: 0x2002, emsp: 0x2003, thinsp: 0x2009,
  zwnj: 0x200c, zwj: 0x200d, lrm: 0x200e, rlm: 0x200f, ndash: 0x2013, mdash: 0x2014, lsquo: 0x2018,
  rsquo: 0x2019, sbquo: 0x201a, ldquo: 0x201c, rdquo: 0x201d, bdquo: 0x201e, dagger: 0x2020, Dagger: 0x2021,
  bull: 0x2022, hellip: 0x2026, permil: 0x2030, prime: 0x2032, Prime: 0x2033, lsaquo: 0x2039, rsaquo: 0x203a,
  oline: 0x203e, frasl: 0x2044, euro: 0x20ac, trade: 0x2122, larr: 0x2190, uarr: 0x2191, rarr: 0x2192,
  darr: 0x2193, harr: 0x2194, minus: 0x2212, infin: 0x221e, ne: 0x2260, le: 0x2264, ge: 0x2265, hearts: 0x2665,
};

/**
 * Every HTML5 name that begins with a legacy name (40 of them). Without these, the longest-prefix rule would
 * turn `&notin;` into `¬in;` where Python gives `∉`; with them, no covered prefix can misread a real name.
 */
const PREFIXED_BY_LEGACY: Record<string, string> = {
  centerdot: '\u00b7', copysr: '\u2117', divideontimes: '\u22c7', gtcc: '\u2aa7', gtcir: '\u2a7a', gtdot: '\u22d7',
  gtlPar: '\u2995', gtquest: '\u2a7c', gtrapprox: '\u2a86', gtrarr: '\u2978', gtrdot: '\u22d7', gtreqless: '\u22db',
  gtreqqless: '\u2a8c', gtrless: '\u2277', gtrsim: '\u2273', ltcc: '\u2aa6', ltcir: '\u2a79', ltdot: '\u22d6',
  lthree: '\u22cb', ltimes: '\u22c9', ltlarr: '\u2976', ltquest: '\u2a7b', ltri: '\u25c3', ltrie: '\u22b4',
  ltrif: '\u25c2', ltrPar: '\u2996', notin: '\u2209', notindot: '\u22f5\u0338', notinE: '\u22f9\u0338',
  notinva: '\u2209', notinvb: '\u22f7', notinvc: '\u22f6', notni: '\u220c', notniva: '\u220c', notnivb: '\u22fe',
  notnivc: '\u22fd', parallel: '\u2225', timesb: '\u22a0', timesbar: '\u2a31', timesd: '\u2a30',
};

/** Legacy names HTML5 also accepts without `;` (besides the Latin-1 block). */
const LEGACY_CORE: Record<string, number> = {
  amp: 0x26, lt: 0x3c, gt: 0x3e, quot: 0x22, AMP: 0x26, LT: 0x3c, GT: 0x3e, QUOT: 0x22, COPY: 0xa9, REG: 0xae,
};

/** Keys as Python's `html.entities.html5` spells them: `name;` always, bare `name` for legacy names only. */
const ENTITIES: ReadonlyMap<string, string> = buildEntityTable();

function buildEntityTable(): Map<string, string> {
  const table = new Map<string, string>();
  const legacy = (name: string, cp: number): void => {
    table.set(name, String.fromCodePoint(cp));
    table.set(`${name};`, String.fromCodePoint(cp));
  };
  LATIN1_NAMES.forEach((name, i) => legacy(name, 0xa0 + i));
  for (const [name, cp] of Object.entries(LEGACY_CORE)) legacy(name, cp);
  GREEK_CAPITALS.forEach((name, i) => name !== '_' && table.set(`${name};`, String.fromCodePoint(0x391 + i)));
  GREEK_SMALL.forEach((name, i) => table.set(`${name};`, String.fromCodePoint(0x3b1 + i)));
  for (const [name, cp] of Object.entries(OTHER_ENTITIES)) table.set(`${name};`, String.fromCodePoint(cp));
  for (const [name, value] of Object.entries(PREFIXED_BY_LEGACY)) table.set(`${name};`, value);
  return table;
}

/** Browsers (and Python) read these numeric references as windows-1252, not as C1 controls. */
const WINDOWS_1252: Record<number, string> = {
  0x00: '\ufffd', 0x0d: '\r', 0x80: '\u20ac', 0x81: '\x81', 0x82: '\u201a', 0x83: '\u0192', 0x84: '\u201e',
  0x85: '\u2026', 0x86: '\u2020', 0x87: '\u2021', 0x88: '\u02c6', 0x89: '\u2030', 0x8a: '\u0160', 0x8b: '\u2039',
  0x8c: '\u0152', 0x8d: '\x8d', 0x8e: '\u017d', 0x8f: '\x8f', 0x90: '\x90', 0x91: '\u2018', 0x92: '\u2019',
  0x93: '\u201c', 0x94: '\u201d', 0x95: '\u2022', 0x96: '\u2013', 0x97: '\u2014', 0x98: '\u02dc', 0x99: '\u2122',
  0x9a: '\u0161', 0x9b: '\u203a', 0x9c: '\u0153', 0x9d: '\x9d', 0x9e: '\u017e', 0x9f: '\u0178',
};

/** Code points a numeric reference may not produce; Python drops them. */
function isInvalidCodePoint(cp: number): boolean {
  return (
    (cp >= 0x1 && cp <= 0x8) || cp === 0xb || (cp >= 0xe && cp <= 0x1f) || (cp >= 0x7f && cp <= 0x9f) ||
    (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe
  );
}

function decodeNumericReference(digits: string, radix: 10 | 16): string {
  const cp = Number.parseInt(digits, radix);
  const special = WINDOWS_1252[cp];
  if (special !== undefined) return special;
  if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return '\ufffd';
  if (isInvalidCodePoint(cp)) return '';
  return String.fromCodePoint(cp);
}

function decodeNamedReference(name: string): string {
  const whole = ENTITIES.get(name);
  if (whole !== undefined) return whole;
  // The longest known prefix wins and the rest stays literal (only semicolon-less legacy names can match here).
  for (let end = name.length - 1; end > 1; end--) {
    const prefix = ENTITIES.get(name.slice(0, end));
    if (prefix !== undefined) return prefix + name.slice(end);
  }
  return `&${name}`;
}

/** Python's `html._charref`; `u` so that the 32-character name limit counts code points, as Python does. */
const CHARACTER_REFERENCE = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

/** Decodes HTML character references once, like Python's `html.unescape`. */
export function unescapeHtml(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(CHARACTER_REFERENCE, (_match, ref: string) => {
    if (ref[0] !== '#') return decodeNamedReference(ref);
    const hex = ref[1] === 'x' || ref[1] === 'X';
    const digits = ref.slice(hex ? 2 : 1).replace(/;$/, '');
    return decodeNumericReference(digits, hex ? 16 : 10);
  });
}

/**
 * Light stemming for "is this word already in the prompt?": lower case, possessives and the commonest English
 * inflections stripped (cats -> cat, glowing -> glow, carved and carve -> carv). Deliberately crude: it only has to stop the
 * expander from saying "glow" after "glowing", not to be a linguistic stemmer.
 */
const STOP_WORDS = new Set([
  'a', 'an', 'the', 'and', 'or', 'of', 'in', 'on', 'at', 'to', 'with', 'by', 'for', 'from', 'into', 'as', 'its', 'is', 'very',
]);

export function stemWord(word: string): string {
  const w = word.toLowerCase().replace(/['\u2019]s$/, '');
  if (w.length > 4 && w.endsWith('ies')) return `${w.slice(0, -3)}y`;
  if (w.length > 4 && /(ss|x|ch|sh)es$/.test(w)) return w.slice(0, -2);
  if (w.length > 4 && w.endsWith('ly')) return w.slice(0, -2);
  const verb = /^(.{3,}?)(ing|ed)$/.exec(w);
  if (verb !== null) {
    // glowing -> glow, sitting -> sit, carved -> carv like carve -> carv: fold what the suffix left behind
    let base = verb[1] as string;
    if (/([b-df-hj-np-tv-z])\1$/.test(base)) base = base.slice(0, -1);
    return base.endsWith('e') ? base.slice(0, -1) : base;
  }
  if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss')) return dropFinalE(w.slice(0, -1));
  return dropFinalE(w);
}

function dropFinalE(w: string): string {
  return w.length > 3 && w.endsWith('e') ? w.slice(0, -1) : w;
}

/** Words of `text` (letters and digits, hyphenated parts split). */
export function splitWords(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
}

/** Stems of the words that carry meaning (stop words left out). */
export function collectContentStems(text: string): Set<string> {
  const stems = new Set<string>();
  for (const word of splitWords(text)) if (!STOP_WORDS.has(word)) stems.add(stemWord(word));
  return stems;
}

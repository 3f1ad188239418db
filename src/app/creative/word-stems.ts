/**
 * Light stemming for "is this word already in the prompt?": lower case, possessives and the commonest English
 * inflections stripped (cats -> cat, glowing -> glow, lit -> lit). Deliberately crude: it only has to stop the
 * expander from saying "glow" after "glowing", not to be a linguistic stemmer.
 */
const STOP_WORDS = new Set([
  'a', 'an', 'the', 'and', 'or', 'of', 'in', 'on', 'at', 'to', 'with', 'by', 'for', 'from', 'into', 'as', 'its', 'is', 'very',
]);

export function stemWord(word: string): string {
  let w = word.toLowerCase().replace(/['\u2019]s$/, '');
  if (w.length > 4 && w.endsWith('ies')) return `${w.slice(0, -3)}y`;
  if (w.length > 5 && w.endsWith('ing')) w = w.slice(0, -3);
  else if (w.length > 4 && w.endsWith('ed')) w = w.slice(0, -2);
  else if (w.length > 4 && w.endsWith('ly')) w = w.slice(0, -2);
  else if (w.length > 4 && /(ss|x|ch|sh)es$/.test(w)) w = w.slice(0, -2);
  else if (w.length > 3 && w.endsWith('s') && !w.endsWith('ss')) w = w.slice(0, -1);
  // glowing -> glow, but shimmering -> shimmer and sitting -> sitt: fold a doubled final consonant and a final e
  if (w.length > 3 && /([b-df-hj-np-tv-z])\1$/.test(w)) w = w.slice(0, -1);
  if (w.length > 3 && w.endsWith('e')) w = w.slice(0, -1);
  return w;
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

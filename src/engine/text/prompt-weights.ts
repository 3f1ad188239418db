/**
 * The ComfyUI/Fooocus attention syntax (`comfy/sd1_clip.py`: `escape_important`, `parse_parentheses`,
 * `token_weights`; Fooocus ships the same code in `ldm_patched/modules/sd1_clip.py`):
 *
 * - `(text)` multiplies the weight by 1.1, so `((text))` is 1.1 * 1.1 = 1.21;
 * - `(text:1.3)` sets the weight to 1.3. It replaces the enclosing weight rather than multiplying it, so
 *   `((text:1.3))` is 1.3, and `((a) b:0.5)` gives `a` 0.5 * 1.1. Only the last `:` is read, and only when
 *   what follows parses as a number (Python `float`), otherwise the colon stays in the text at x1.1;
 * - `\(` and `\)` are literal parentheses (the backslash is removed); a lone backslash stays;
 * - `[text]` and `{text}` mean nothing (A1111's `[ ]` de-emphasis is not ComfyUI syntax) and stay literal.
 *
 * Unbalanced parentheses, as ComfyUI's character scan treats them: an unclosed `(` runs to the end of the text
 * and, lacking its `)`, stays literal at the enclosing weight (`a (b c` is one segment, weight 1). A stray `)`
 * drives the nesting depth negative and stays literal; from then on a `(` only climbs back towards 0, so
 * groups after a stray `)` are not weighted (`a) (b)` is one literal segment).
 *
 * One deliberate difference: Python's `float` accepts `inf` and `nan`; a non-finite weight would poison the
 * whole conditioning, so such a suffix is treated like any other non-number.
 */

/** A run of prompt text sharing one attention weight. Segment boundaries also end words (see token-windows). */
export interface WeightedSegment {
  text: string;
  weight: number;
}

/** Multiplier for each unweighted pair of parentheses. */
const PAREN_FACTOR = 1.1;

/**
 * A prompt character; an escaped parenthesis is kept as its two-character source (`\(`) so that the parser,
 * which compares single characters with `(` and `)`, never mistakes it for syntax.
 */
type Unit = string;

/** Splits into code points, joining `\(` and `\)` into single units (ComfyUI's `escape_important`). */
function splitUnits(text: string): Unit[] {
  const chars = [...text];
  const units: Unit[] = [];
  for (let i = 0; i < chars.length; i++) {
    const char = chars[i] as string;
    const next = chars[i + 1];
    if (char === '\\' && (next === '(' || next === ')')) {
      units.push(char + next);
      i++;
    } else {
      units.push(char);
    }
  }
  return units;
}

/** ComfyUI's `parse_parentheses`: split at top-level parenthesised groups, keeping the parentheses. */
function splitTopLevelGroups(units: readonly Unit[]): Unit[][] {
  const groups: Unit[][] = [];
  let current: Unit[] = [];
  let depth = 0;
  for (const unit of units) {
    if (unit === '(') {
      if (depth === 0) {
        if (current.length > 0) groups.push(current);
        current = ['('];
      } else {
        current.push(unit);
      }
      depth++;
    } else if (unit === ')') {
      depth--;
      if (depth === 0) {
        current.push(')');
        groups.push(current);
        current = [];
      } else {
        current.push(unit);
      }
    } else {
      current.push(unit);
    }
  }
  if (current.length > 0) groups.push(current);
  return groups;
}

const PYTHON_DECIMAL = /^[+-]?(?:\d(?:_?\d)*(?:\.(?:\d(?:_?\d)*)?)?|\.\d(?:_?\d)*)(?:[eE][+-]?\d(?:_?\d)*)?$/;

/** Python `float(s)` for decimal literals (surrounding whitespace, sign, `_` between digits, exponent). */
function parsePythonFloat(text: string): number | undefined {
  const trimmed = text.trim();
  if (!PYTHON_DECIMAL.test(trimmed)) return undefined;
  return Number(trimmed.replaceAll('_', ''));
}

/** The text of units with escapes resolved (ComfyUI's `unescape_important`). */
function joinUnits(units: readonly Unit[]): string {
  return units.map((unit) => (unit.length === 2 && unit[0] === '\\' ? unit[1] : unit)).join('');
}

/** ComfyUI's `token_weights`, over units. */
function collectSegments(units: readonly Unit[], weight: number, out: WeightedSegment[]): void {
  for (const group of splitTopLevelGroups(units)) {
    if (group.length < 2 || group[0] !== '(' || group[group.length - 1] !== ')') {
      out.push({ text: joinUnits(group), weight });
      continue;
    }
    let inner = group.slice(1, -1);
    let innerWeight = weight * PAREN_FACTOR;
    const colon = inner.lastIndexOf(':');
    if (colon > 0) {
      const explicit = parsePythonFloat(inner.slice(colon + 1).join(''));
      if (explicit !== undefined && Number.isFinite(explicit)) {
        innerWeight = explicit;
        inner = inner.slice(0, colon);
      }
    }
    collectSegments(inner, innerWeight, out);
  }
}

/**
 * Parses the attention syntax into weighted segments in prompt order. Segments are not merged: ComfyUI
 * tokenizes each one on its own, so `a(b)c` is three words where `abc` is one.
 */
export function parsePromptWeights(text: string): WeightedSegment[] {
  const segments: WeightedSegment[] = [];
  collectSegments(splitUnits(text), 1.0, segments);
  return segments;
}

/**
 * A strict JSON (RFC 8259) parser for untrusted headers. Unlike JSON.parse it rejects duplicate object keys
 * (JSON.parse keeps the last one silently, so two readers of the same bytes could see different tensors), rejects
 * escaped lone surrogates, keeps integers exact, and caps nesting so hostile input cannot exhaust the stack.
 * Runs in time linear in the input.
 */

/** Objects are Maps: key order is kept and keys such as `__proto__` are just data. */
export type JsonObject = Map<string, JsonValue>;
/** Integer literals of up to 24 characters are exact bigints; every other number is a float `number`. */
export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | JsonObject;

export class StrictJsonError extends Error {
  override readonly name = 'StrictJsonError';
  readonly kind: 'syntax' | 'duplicate-key';
  /** Object keys leading to the problem, outermost first, ending with the repeated key for a duplicate (array levels are not listed). */
  readonly path: readonly string[];

  constructor(kind: 'syntax' | 'duplicate-key', message: string, path: readonly string[]) {
    super(message);
    this.kind = kind;
    this.path = path;
  }
}

/** A safetensors header needs depth 3 (header, entry, shape); anything far deeper is an attack, not data. */
const MAX_DEPTH = 64;
/** Longer integer literals cannot be safe integers anyway; parsing them as bigint would cost superlinear time. */
const MAX_EXACT_INTEGER_CHARS = 24;
const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
const INTEGER = /^-?(?:0|[1-9][0-9]*)$/;

export function parseStrictJson(text: string): JsonValue {
  const parser = new Parser(text);
  parser.skipWhitespace();
  const value = parser.parseValue(0);
  parser.skipWhitespace();
  if (parser.pos < text.length) parser.fail(`unexpected ${parser.describeChar()} after the JSON value`);
  return value;
}

class Parser {
  pos = 0;
  private readonly path: string[] = [];

  constructor(private readonly text: string) {}

  fail(message: string, kind: 'syntax' | 'duplicate-key' = 'syntax'): never {
    throw new StrictJsonError(kind, `${message} at character ${this.pos}`, [...this.path]);
  }

  describeChar(): string {
    return this.pos < this.text.length ? JSON.stringify(this.text[this.pos]) : 'end of input';
  }

  skipWhitespace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
      this.pos++;
    }
  }

  parseValue(depth: number): JsonValue {
    if (depth > MAX_DEPTH) this.fail(`nesting deeper than ${MAX_DEPTH}`);
    const c = this.text[this.pos];
    if (c === '{') return this.parseObject(depth);
    if (c === '[') return this.parseArray(depth);
    if (c === '"') return this.parseString();
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.parseNumber();
    if (this.text.startsWith('true', this.pos)) return this.advance(4, true);
    if (this.text.startsWith('false', this.pos)) return this.advance(5, false);
    if (this.text.startsWith('null', this.pos)) return this.advance(4, null);
    return this.fail(`unexpected ${this.describeChar()}`);
  }

  private advance<T>(length: number, value: T): T {
    this.pos += length;
    return value;
  }

  private expect(char: string): void {
    if (this.text[this.pos] !== char) this.fail(`expected ${JSON.stringify(char)}, found ${this.describeChar()}`);
    this.pos++;
  }

  private parseObject(depth: number): JsonObject {
    const object: JsonObject = new Map();
    this.pos++;
    this.skipWhitespace();
    if (this.text[this.pos] === '}') return this.advance(1, object);
    for (;;) {
      if (this.text[this.pos] !== '"') this.fail(`expected a string key, found ${this.describeChar()}`);
      const keyStart = this.pos;
      const key = this.parseString();
      if (object.has(key)) {
        this.pos = keyStart;
        this.path.push(key);
        this.fail(`duplicate key ${JSON.stringify(key)}`, 'duplicate-key');
      }
      this.skipWhitespace();
      this.expect(':');
      this.skipWhitespace();
      this.path.push(key);
      object.set(key, this.parseValue(depth + 1));
      this.path.pop();
      this.skipWhitespace();
      if (this.text[this.pos] === '}') return this.advance(1, object);
      this.expect(',');
      this.skipWhitespace();
    }
  }

  private parseArray(depth: number): JsonValue[] {
    const array: JsonValue[] = [];
    this.pos++;
    this.skipWhitespace();
    if (this.text[this.pos] === ']') return this.advance(1, array);
    for (;;) {
      array.push(this.parseValue(depth + 1));
      this.skipWhitespace();
      if (this.text[this.pos] === ']') return this.advance(1, array);
      this.expect(',');
      this.skipWhitespace();
    }
  }

  private parseNumber(): number | bigint {
    NUMBER.lastIndex = this.pos;
    const match = NUMBER.exec(this.text);
    if (match === null) return this.fail('malformed number');
    const literal = match[0];
    this.pos += literal.length;
    if (INTEGER.test(literal) && literal.length <= MAX_EXACT_INTEGER_CHARS) return BigInt(literal);
    return Number(literal);
  }

  private parseString(): string {
    const t = this.text;
    this.pos++;
    let out = '';
    let runStart = this.pos;
    for (;;) {
      if (this.pos >= t.length) this.fail('unterminated string');
      const c = t.charCodeAt(this.pos);
      if (c === 0x22) {
        out += t.slice(runStart, this.pos);
        this.pos++;
        return out;
      }
      if (c < 0x20) this.fail('unescaped control character in string');
      if (c === 0x5c) {
        out += t.slice(runStart, this.pos);
        out += this.parseEscape();
        runStart = this.pos;
      } else {
        this.pos++;
      }
    }
  }

  /** Reads one escape sequence starting at the backslash; a \u surrogate must come as a well-formed pair. */
  private parseEscape(): string {
    const e = this.text[this.pos + 1];
    const simple = e === undefined ? undefined : SIMPLE_ESCAPES[e];
    if (simple !== undefined) return this.advance(2, simple);
    if (e !== 'u') return this.fail('invalid escape sequence');
    const unit = this.readHex4(this.pos + 2);
    this.pos += 6;
    if (unit >= 0xdc00 && unit <= 0xdfff) this.fail('lone low surrogate escape');
    if (unit < 0xd800 || unit > 0xdbff) return String.fromCharCode(unit);
    if (this.text[this.pos] !== '\\' || this.text[this.pos + 1] !== 'u') this.fail('lone high surrogate escape');
    const low = this.readHex4(this.pos + 2);
    if (low < 0xdc00 || low > 0xdfff) this.fail('lone high surrogate escape');
    this.pos += 6;
    return String.fromCharCode(unit, low);
  }

  private readHex4(at: number): number {
    const hex = this.text.slice(at, at + 4);
    if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('invalid \\u escape');
    return parseInt(hex, 16);
  }
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = Object.assign(Object.create(null) as Record<string, string>, {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
});

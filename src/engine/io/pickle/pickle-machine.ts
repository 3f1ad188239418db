/**
 * A restricted pickle interpreter (protocols 2 to 5, the format of Python's pickle module) for the data.pkl of a
 * PyTorch checkpoint. It interprets only the opcodes that build a nested dict of tensors and accepts only the
 * globals in ALLOWED_GLOBALS; a call (REDUCE, BUILD) is read as data for one of those few rebuilds and nothing is
 * ever executed. Work is bounded by the stream's length (every opcode consumes at least one byte); memory and
 * nesting by the limits below, each refused with a TorchFileError naming the file.
 */
import { TorchFileError, type TorchFileRule } from './torch-file-error.ts';
import { rebuildFromCall, readPersistentStorage } from './pickle-rebuilds.ts';
import { ALLOWED_GLOBALS, describeValue, type DictKey, type PickleValue } from './pickle-values.ts';

export interface PickleLimits {
  /** Values on the stack at once. */
  maxStack: number;
  /** Memo entries (indexes themselves may be any u32: the memo is a map, never an array sized by an index). */
  maxMemo: number;
  /** Open MARKs at once. */
  maxMarks: number;
}

export const DEFAULT_PICKLE_LIMITS: PickleLimits = { maxStack: 1_000_000, maxMemo: 1_000_000, maxMarks: 10_000 };

const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT', 0x4a: 'BININT',
  0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID', 0x52: 'REDUCE',
  0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND',
  0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT', 0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET',
  0x69: 'INST', 0x6a: 'LONG_BINGET', 0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT',
  0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2',
  0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME',
  0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Interprets `bytes` (a whole pickle stream) and returns the value STOP leaves on the stack. */
export function interpretPickle(bytes: Uint8Array, file: string, limits: PickleLimits = DEFAULT_PICKLE_LIMITS): PickleValue {
  return new PickleMachine(bytes, file, limits, 0).run();
}

/** Interprets the pickle that starts at `offset` of `bytes` (several are written back to back) and says where it ended. */
export function interpretPickleAt(bytes: Uint8Array, offset: number, file: string, limits: PickleLimits = DEFAULT_PICKLE_LIMITS): { value: PickleValue; end: number } {
  const machine = new PickleMachine(bytes, file, limits, offset);
  return { value: machine.run(), end: machine.position };
}

class PickleMachine {
  private stack: PickleValue[] = [];
  /** Stack heights at each open MARK (CPython's metastack, so a MARK is never a value). */
  private marks: number[] = [];
  private memo = new Map<number, PickleValue>();
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly file: string,
    private readonly limits: PickleLimits,
    private pos: number,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  get position(): number {
    return this.pos;
  }

  run(): PickleValue {
    const first = this.u8();
    if (first !== 0x80) this.fail('pickle-opcode', `data.pkl does not start with PROTO (protocols 2 to 5 are read), but with byte 0x${hex(first)}`);
    const protocol = this.u8();
    if (protocol < 2 || protocol > 5) this.fail('pickle-opcode', `pickle protocol ${protocol} (2 to 5 are read)`);
    for (;;) {
      const at = this.pos;
      const op = this.u8();
      if (op === 0x2e) {
        if (this.stack.length !== 1 || this.marks.length !== 0) this.fail('pickle-structure', `STOP with ${this.stack.length} values and ${this.marks.length} open marks`);
        return this.stack[0]!;
      }
      this.step(op, at);
    }
  }

  private step(op: number, at: number): void {
    switch (op) {
      case 0x95: return void this.take(8); // FRAME: a length hint only; framing does not change the meaning
      case 0x28: return this.mark();
      case 0x30: return void this.pop();
      case 0x31: return void this.popMark();
      case 0x4e: return this.push(null);
      case 0x88: return this.push(true);
      case 0x89: return this.push(false);
      case 0x4a: return this.push(BigInt(this.int32()));
      case 0x4b: return this.push(BigInt(this.u8()));
      case 0x4d: return this.push(BigInt(this.u16()));
      case 0x8a: return this.push(this.long1());
      case 0x47: return this.push(this.float64());
      case 0x8c: return this.push(this.text(this.u8()));
      case 0x58: return this.push(this.text(this.u32()));
      case 0x8d: return this.push(this.text(this.u64()));
      case 0x43: return this.push({ kind: 'bytes', bytes: this.take(this.u8()) });
      case 0x42: return this.push({ kind: 'bytes', bytes: this.take(this.u32()) });
      case 0x8e: return this.push({ kind: 'bytes', bytes: this.take(this.u64()) });
      case 0x7d: return this.push({ kind: 'dict', ordered: false, entries: new Map() });
      case 0x5d: return this.push({ kind: 'list', items: [] });
      case 0x29: return this.push({ kind: 'tuple', items: [] });
      case 0x74: return this.push({ kind: 'tuple', items: this.popMark() });
      case 0x85: case 0x86: case 0x87: return this.push({ kind: 'tuple', items: this.popN(op - 0x84) });
      case 0x61: return this.appendItems([this.pop()]);
      case 0x65: return this.appendItems(this.popMark());
      case 0x73: return this.setItems(this.popN(2));
      case 0x75: return this.setItems(this.popMark());
      case 0x71: return this.put(this.u8());
      case 0x72: return this.put(this.u32());
      case 0x94: return this.put(this.memo.size);
      case 0x68: return this.get(this.u8());
      case 0x6a: return this.get(this.u32());
      case 0x63: return this.push(this.resolveGlobal(this.line(), this.line()));
      case 0x93: return this.stackGlobal();
      case 0x52: return this.reduce();
      case 0x62: return this.build();
      case 0x51: return this.push(readPersistentStorage(this.pop(), this.file));
      default:
        this.fail('pickle-opcode', `opcode ${OPCODE_NAMES[op] ?? 'unknown'} (0x${hex(op)}) at offset ${at} is not interpreted: only the opcodes that build a dict of tensors are`);
    }
  }

  private resolveGlobal(module: string, name: string): PickleValue {
    const qualified = `${module}.${name}`;
    const global = ALLOWED_GLOBALS.get(qualified);
    if (global === undefined) {
      throw new TorchFileError(
        this.file,
        'global-refused',
        `the pickle names ${qualified}, which is not on the allowlist (tensor rebuilds, storages of plain numeric types, collections.OrderedDict); nothing was executed`,
        qualified,
      );
    }
    return { kind: 'global', global };
  }

  /** STACK_GLOBAL takes its module and name from the stack; they must be plain strings, then the allowlist decides. */
  private stackGlobal(): void {
    const [module, name] = this.popN(2);
    if (typeof module !== 'string' || typeof name !== 'string') {
      this.fail('pickle-structure', `STACK_GLOBAL needs two strings, got ${describeValue(module!)} and ${describeValue(name!)}`);
    }
    this.push(this.resolveGlobal(module, name));
  }

  private reduce(): void {
    const [callable, args] = this.popN(2);
    this.push(rebuildFromCall(callable!, args!, this.file));
  }

  /** BUILD sets an object's state. Only OrderedDict state (a state dict's `_metadata` attribute) is accepted, and dropped. */
  private build(): void {
    const state = this.pop();
    const target = this.peek();
    const isOrderedDict = typeof target === 'object' && target !== null && target.kind === 'dict' && target.ordered;
    const isPlainState = typeof state === 'object' && state !== null && state.kind === 'dict';
    if (!isOrderedDict || !isPlainState) {
      throw new TorchFileError(this.file, 'call-refused', `BUILD on ${describeValue(target)} with ${describeValue(state)}: only an OrderedDict's attribute dict is accepted`);
    }
  }

  private appendItems(items: PickleValue[]): void {
    const list = this.peek();
    if (typeof list !== 'object' || list === null || list.kind !== 'list') this.fail('pickle-structure', `APPEND to ${describeValue(list)}`);
    for (const item of items) list.items.push(item);
  }

  private setItems(pairs: PickleValue[]): void {
    const dict = this.peek();
    if (typeof dict !== 'object' || dict === null || dict.kind !== 'dict') this.fail('pickle-structure', `SETITEM on ${describeValue(dict)}`);
    if (pairs.length % 2 !== 0) this.fail('pickle-structure', 'SETITEMS with an odd number of values');
    for (let i = 0; i < pairs.length; i += 2) {
      const key = pairs[i]!;
      if (typeof key !== 'string' && typeof key !== 'bigint') this.fail('pickle-structure', `a dict key is ${describeValue(key)} (str and int keys are read)`);
      dict.entries.set(key as DictKey, pairs[i + 1]!);
    }
  }

  private put(index: number): void {
    if (this.stack.length === 0) this.fail('pickle-structure', 'memo PUT on an empty stack');
    if (!this.memo.has(index) && this.memo.size >= this.limits.maxMemo) this.fail('limit', `more than ${this.limits.maxMemo} memo entries`);
    this.memo.set(index, this.stack[this.stack.length - 1]!);
  }

  private get(index: number): void {
    const value = this.memo.get(index);
    if (value === undefined) this.fail('pickle-structure', `memo GET of index ${index}, which was never stored`);
    this.push(value);
  }

  private push(value: PickleValue): void {
    if (this.stack.length >= this.limits.maxStack) this.fail('limit', `more than ${this.limits.maxStack} values on the pickle stack`);
    this.stack.push(value);
  }

  private mark(): void {
    if (this.marks.length >= this.limits.maxMarks) this.fail('limit', `more than ${this.limits.maxMarks} open MARKs`);
    this.marks.push(this.stack.length);
  }

  private pop(): PickleValue {
    if (this.stack.length <= (this.marks.at(-1) ?? 0)) this.fail('pickle-structure', 'pop from an empty stack (or across a MARK)');
    return this.stack.pop()!;
  }

  private peek(): PickleValue {
    if (this.stack.length <= (this.marks.at(-1) ?? 0)) this.fail('pickle-structure', 'an operation needs a value below it on the stack');
    return this.stack[this.stack.length - 1]!;
  }

  private popN(n: number): PickleValue[] {
    if (this.stack.length - (this.marks.at(-1) ?? 0) < n) this.fail('pickle-structure', `an operation needs ${n} values on the stack`);
    return this.stack.splice(this.stack.length - n, n);
  }

  private popMark(): PickleValue[] {
    const height = this.marks.pop();
    if (height === undefined) this.fail('pickle-structure', 'an operation needs a MARK, and none is open');
    return this.stack.splice(height, this.stack.length - height);
  }

  private take(length: number): Uint8Array {
    if (length > this.bytes.length - this.pos) this.fail('pickle-truncated', `an operand of ${length} bytes at offset ${this.pos} runs past the end of data.pkl`);
    const out = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  private u8(): number {
    if (this.pos >= this.bytes.length) this.fail('pickle-truncated', 'data.pkl ends before STOP');
    return this.bytes[this.pos++]!;
  }

  private u16(): number {
    const at = this.advance(2);
    return this.view.getUint16(at, true);
  }

  private int32(): number {
    const at = this.advance(4);
    return this.view.getInt32(at, true);
  }

  private u32(): number {
    const at = this.advance(4);
    return this.view.getUint32(at, true);
  }

  /** An 8-byte length: anything past the stream is refused by take() anyway, so clamp instead of converting blindly. */
  private u64(): number {
    const at = this.advance(8);
    const value = this.view.getBigUint64(at, true);
    return value > BigInt(this.bytes.length) ? this.bytes.length + 1 : Number(value);
  }

  private float64(): number {
    const at = this.advance(8);
    return this.view.getFloat64(at, false);
  }

  /** LONG1: a little-endian two's-complement integer of up to 255 bytes. */
  private long1(): bigint {
    const bytes = this.take(this.u8());
    let value = 0n;
    for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]!);
    if (bytes.length > 0 && bytes[bytes.length - 1]! >= 0x80) value -= 1n << BigInt(8 * bytes.length);
    return value;
  }

  private text(length: number): string {
    const bytes = this.take(length);
    try {
      return utf8.decode(bytes);
    } catch {
      return this.fail('pickle-structure', `a string at offset ${this.pos - length} is not UTF-8`);
    }
  }

  /** GLOBAL's operands: newline-terminated names, read as ASCII identifiers with dots. */
  private line(): string {
    const newline = this.bytes.subarray(this.pos, this.pos + 257).indexOf(0x0a);
    const end = this.pos + newline;
    if (newline < 0) this.fail('pickle-truncated', `a GLOBAL name at offset ${this.pos} has no end`);
    const bytes = this.take(end - this.pos);
    this.pos += 1;
    return String.fromCharCode(...bytes);
  }

  private advance(n: number): number {
    const at = this.pos;
    this.take(n);
    return at;
  }

  private fail(rule: TorchFileRule, detail: string): never {
    throw new TorchFileError(this.file, rule, detail);
  }
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}

/**
 * Key paths as users read them: `server.port`, `server.auth.tokens[0]`, `downloads.pins["huggingface.co"]`.
 * Every configuration error names the value this way, whether it came from the file, the environment or a flag.
 */
export type KeySegment = string | number;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export function formatKeyPath(segments: readonly KeySegment[]): string {
  let text = '';
  for (const segment of segments) {
    if (typeof segment === 'number') text += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) text += text === '' ? segment : `.${segment}`;
    else text += `[${JSON.stringify(segment)}]`;
  }
  return text;
}

/** Splits a JSON Pointer (RFC 6901, as TypeBox reports error paths) into segments; digits become array indices. */
export function parseJsonPointer(pointer: string): KeySegment[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((raw) => raw.replaceAll('~1', '/').replaceAll('~0', '~'))
    .map((segment) => (/^(0|[1-9]\d*)$/.test(segment) ? Number(segment) : segment));
}

/**
 * `<lora:name:weight>` tokens in a prompt (the A1111/Fooocus notation): taken out of the text and returned as data,
 * so the prompt the text encoder sees never contains them.
 */
import { PromptSyntaxError } from './creative-errors.ts';

export interface LoraReference {
  name: string;
  weight: number;
}

export const LORA_WEIGHT_RANGE = { min: -2, max: 2 } as const;
const LORA_TOKEN = /<lora:([^<>]*)>/gi;
const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

function parseLoraToken(token: string, body: string): LoraReference {
  const colon = body.lastIndexOf(':');
  const hasWeight = colon !== -1 && NUMBER.test(body.slice(colon + 1).trim());
  const name = (hasWeight ? body.slice(0, colon) : body).trim();
  if (name === '') throw new PromptSyntaxError(token, 'a LoRA token needs a name: <lora:name:weight>');
  if (!hasWeight && colon !== -1) throw new PromptSyntaxError(token, `weight must be a number in ${LORA_WEIGHT_RANGE.min}..${LORA_WEIGHT_RANGE.max}`);
  const weight = hasWeight ? Number(body.slice(colon + 1)) : 1;
  if (!(weight >= LORA_WEIGHT_RANGE.min && weight <= LORA_WEIGHT_RANGE.max)) {
    throw new PromptSyntaxError(token, `weight must be a number in ${LORA_WEIGHT_RANGE.min}..${LORA_WEIGHT_RANGE.max}, got ${weight}`);
  }
  return { name, weight };
}

/** Tidies the gap a removed token leaves: doubled spaces and commas, and commas at either end of a line. */
function tidyLine(line: string): string {
  return line
    .replace(/\s{2,}/g, ' ')
    .replace(/\s*,(\s*,)+/g, ',')
    .replace(/^[\s,]+|[\s,]+$/g, '');
}

/** Removes every LoRA token from `text` (line by line, lines kept) and returns them in order of appearance. */
export function extractLoraTokens(text: string): { text: string; loras: LoraReference[] } {
  const loras: LoraReference[] = [];
  const lines = text.split(/\r\n|\r|\n/).map((line) => {
    if (!/<lora:/i.test(line)) return line;
    const stripped = line.replace(LORA_TOKEN, (token: string, body: string) => {
      loras.push(parseLoraToken(token, body));
      return ' ';
    });
    const unclosed = /<lora:[^>]*$/i.exec(stripped);
    if (unclosed !== null) throw new PromptSyntaxError(unclosed[0], 'unclosed LoRA token; write <lora:name:weight>');
    return tidyLine(stripped);
  });
  return { text: lines.join('\n'), loras };
}

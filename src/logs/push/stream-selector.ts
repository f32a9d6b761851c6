import type { Label } from '../../model/labels.ts';

/**
 * Parser for the label string a Loki push carries per stream: `{job="x", host="y"}`. Values are
 * Go string literals (double-quoted with escapes, or back-quoted raw). Only equality pairs are
 * allowed; anything else is refused with the position of the problem.
 */
export class StreamLabelsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StreamLabelsError';
  }
}

const NAME_START = /[a-zA-Z_]/;
const NAME_CHAR = /[a-zA-Z0-9_]/;

export function parseStreamLabels(text: string): Label[] {
  let i = 0;
  const fail = (what: string): never => {
    throw new StreamLabelsError(`${what} at position ${i + 1}`);
  };
  const skipSpace = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  skipSpace();
  if (text[i] !== '{') fail('expected "{"');
  i++;
  const labels: Label[] = [];
  skipSpace();
  if (text[i] === '}') {
    i++;
  } else {
    for (;;) {
      skipSpace();
      if (i >= text.length || !NAME_START.test(text[i]!)) fail('expected a label name');
      const start = i;
      while (i < text.length && NAME_CHAR.test(text[i]!)) i++;
      const name = text.slice(start, i);
      skipSpace();
      if (text[i] !== '=') fail(`expected "=" after label name "${name}"`);
      i++;
      if (text[i] === '~') fail('only "=" is allowed in stream labels');
      skipSpace();
      const { value, end } = readGoString(text, i);
      i = end;
      labels.push({ name, value });
      skipSpace();
      if (text[i] === ',') {
        i++;
        skipSpace();
        if (text[i] === '}') {
          i++;
          break;
        }
        continue;
      }
      if (text[i] === '}') {
        i++;
        break;
      }
      fail('expected "," or "}"');
    }
  }
  skipSpace();
  if (i < text.length) fail('unexpected text after "}"');
  return labels;
}

/** Reads a Go string literal ("…" with escapes or `…` raw) starting at `pos`. */
export function readGoString(text: string, pos: number): { value: string; end: number } {
  const quote = text[pos];
  if (quote === '`') {
    const close = text.indexOf('`', pos + 1);
    if (close < 0) throw new StreamLabelsError(`unterminated raw string at position ${pos + 1}`);
    return { value: text.slice(pos + 1, close), end: close + 1 };
  }
  if (quote !== '"') throw new StreamLabelsError(`expected a quoted string at position ${pos + 1}`);
  let out = '';
  let i = pos + 1;
  let bytes: number[] | undefined; // pending \x / octal bytes, decoded as UTF-8 together
  const flushBytes = (): void => {
    if (bytes) {
      out += Buffer.from(bytes).toString('utf8');
      bytes = undefined;
    }
  };
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      flushBytes();
      return { value: out, end: i + 1 };
    }
    if (c === '\n') break;
    if (c !== '\\') {
      flushBytes();
      out += c;
      i++;
      continue;
    }
    const e = text[i + 1];
    i += 2;
    const simple: Record<string, string> = {
      n: '\n',
      t: '\t',
      r: '\r',
      a: '\x07',
      b: '\b',
      f: '\f',
      v: '\v',
      '\\': '\\',
      '"': '"',
      "'": "'",
    };
    if (e !== undefined && simple[e] !== undefined) {
      flushBytes();
      out += simple[e];
    } else if (e === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i, i + 2))) {
      (bytes ??= []).push(parseInt(text.slice(i, i + 2), 16));
      i += 2;
    } else if (e !== undefined && /[0-7]/.test(e) && /^[0-7]{2}$/.test(text.slice(i, i + 2))) {
      (bytes ??= []).push(parseInt(e + text.slice(i, i + 2), 8) & 0xff);
      i += 2;
    } else if (
      (e === 'u' || e === 'U') &&
      new RegExp(`^[0-9a-fA-F]{${e === 'u' ? 4 : 8}}$`).test(text.slice(i, i + (e === 'u' ? 4 : 8)))
    ) {
      const len = e === 'u' ? 4 : 8;
      flushBytes();
      const cp = parseInt(text.slice(i, i + len), 16);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        throw new StreamLabelsError(`invalid Unicode escape at position ${i - 1}`);
      out += String.fromCodePoint(cp);
      i += len;
    } else {
      throw new StreamLabelsError(`invalid escape sequence "\\${e ?? ''}" at position ${i - 1}`);
    }
  }
  throw new StreamLabelsError(`unterminated string starting at position ${pos + 1}`);
}

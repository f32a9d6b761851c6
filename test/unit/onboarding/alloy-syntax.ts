/**
 * A small reader for the Alloy configuration syntax, written from Alloy's "Syntax" and "Types and
 * values" pages, used only to check what Irin generates (Alloy itself is not packaged by Debian,
 * so it cannot be run here). It is strict on purpose: anything it does not know is an error.
 */

export type Value =
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'null' }
  | { kind: 'array'; items: Value[] }
  | { kind: 'object'; entries: [string, Value][] }
  | { kind: 'ref'; path: string }
  | { kind: 'call'; fn: string; args: Value[] };

export interface Attribute {
  name: string;
  value: Value;
  line: number;
}

export interface Block {
  name: string;
  label?: string;
  attributes: Attribute[];
  blocks: Block[];
  line: number;
}

type Token =
  | { t: 'ident'; v: string; line: number }
  | { t: 'string'; v: string; line: number }
  | { t: 'number'; v: number; line: number }
  | { t: 'punct'; v: string; line: number }
  | { t: 'nl'; line: number }
  | { t: 'eof'; line: number };

export class AlloySyntaxError extends Error {}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\\': '\\',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  "'": "'",
  '"': '"',
};

/** Decodes the body of a double-quoted string per the escape table of "Types and values". */
function decodeString(src: string, line: number): string {
  const bytes: number[] = [];
  const pushText = (s: string) => bytes.push(...Buffer.from(s, 'utf8'));
  for (let i = 0; i < src.length; i++) {
    const ch = src[i]!;
    if (ch === '\n') throw new AlloySyntaxError(`line ${line}: newline inside a string`);
    if (ch !== '\\') {
      const cp = src.codePointAt(i)!;
      pushText(String.fromCodePoint(cp));
      if (cp > 0xffff) i++;
      continue;
    }
    const e = src[++i];
    if (e === undefined) throw new AlloySyntaxError(`line ${line}: string ends in a backslash`);
    if (e in SIMPLE_ESCAPES) {
      pushText(SIMPLE_ESCAPES[e]!);
    } else if (/[0-7]/.test(e)) {
      const oct = src.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(oct)) throw new AlloySyntaxError(`line ${line}: bad octal escape \\${oct}`);
      bytes.push(parseInt(oct, 8));
      i += 2;
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = src.slice(i + 1, i + 1 + n);
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex))
        throw new AlloySyntaxError(`line ${line}: bad \\${e} escape`);
      const code = parseInt(hex, 16);
      if (e === 'x') bytes.push(code);
      else {
        if (code >= 0xd800 && code <= 0xdfff)
          throw new AlloySyntaxError(`line ${line}: surrogate in \\${e} escape`);
        pushText(String.fromCodePoint(code));
      }
      i += n;
    } else {
      throw new AlloySyntaxError(`line ${line}: unknown escape \\${e}`);
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  let i = 0;
  while (i < text.length) {
    const ch = text[i]!;
    if (ch === '\n') {
      out.push({ t: 'nl', line });
      line++;
      i++;
    } else if (ch === ' ' || ch === '\t' || ch === '\r') {
      i++;
    } else if (text.startsWith('//', i)) {
      while (i < text.length && text[i] !== '\n') i++;
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new AlloySyntaxError(`line ${line}: unterminated block comment`);
      line += text.slice(i, end).split('\n').length - 1;
      i = end + 2;
    } else if (ch === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') {
        if (text[j] === '\n') throw new AlloySyntaxError(`line ${line}: newline inside a string`);
        j += text[j] === '\\' ? 2 : 1;
      }
      if (j >= text.length) throw new AlloySyntaxError(`line ${line}: unterminated string`);
      out.push({ t: 'string', v: decodeString(text.slice(i + 1, j), line), line });
      i = j + 1;
    } else if (ch === '`') {
      const end = text.indexOf('`', i + 1);
      if (end < 0) throw new AlloySyntaxError(`line ${line}: unterminated raw string`);
      out.push({ t: 'string', v: text.slice(i + 1, end), line });
      line += text.slice(i, end).split('\n').length - 1;
      i = end + 1;
    } else if (/[0-9]/.test(ch)) {
      const m = /^[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(text.slice(i))!;
      out.push({ t: 'number', v: Number(m[0]), line });
      i += m[0].length;
    } else if (/[\p{L}_]/u.test(ch)) {
      const m = /^[\p{L}_][\p{L}\p{N}_]*/u.exec(text.slice(i))!;
      out.push({ t: 'ident', v: m[0], line });
      i += m[0].length;
    } else if ('{}[]()=,.'.includes(ch)) {
      out.push({ t: 'punct', v: ch, line });
      i++;
    } else {
      throw new AlloySyntaxError(`line ${line}: unexpected character ${JSON.stringify(ch)}`);
    }
  }
  out.push({ t: 'eof', line });
  return out;
}

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.i + offset, this.tokens.length - 1)]!;
  }
  private next(): Token {
    return this.tokens[this.i++]!;
  }
  private skipNewlines(): void {
    while (this.peek().t === 'nl') this.i++;
  }
  private expectPunct(v: string): void {
    const tok = this.next();
    if (tok.t !== 'punct' || tok.v !== v) throw new AlloySyntaxError(`line ${tok.line}: expected "${v}"`);
  }
  /** Statements end with a newline (or the closing brace of the enclosing block). */
  private endStatement(): void {
    const tok = this.peek();
    if (tok.t === 'nl') this.skipNewlines();
    else if (!(tok.t === 'punct' && tok.v === '}') && tok.t !== 'eof') {
      throw new AlloySyntaxError(`line ${tok.line}: expected a newline after the statement`);
    }
  }

  body(top: boolean): { attributes: Attribute[]; blocks: Block[] } {
    const attributes: Attribute[] = [];
    const blocks: Block[] = [];
    this.skipNewlines();
    for (;;) {
      const tok = this.peek();
      if (tok.t === 'eof') {
        if (!top) throw new AlloySyntaxError(`line ${tok.line}: unbalanced braces (missing "}")`);
        return { attributes, blocks };
      }
      if (tok.t === 'punct' && tok.v === '}') {
        if (top) throw new AlloySyntaxError(`line ${tok.line}: unbalanced braces (extra "}")`);
        return { attributes, blocks };
      }
      if (tok.t !== 'ident')
        throw new AlloySyntaxError(`line ${tok.line}: expected an attribute or block name`);
      const first = this.next() as { v: string; line: number };
      let name = first.v;
      while (this.peek().t === 'punct' && (this.peek() as { v: string }).v === '.') {
        this.next();
        const part = this.next();
        if (part.t !== 'ident')
          throw new AlloySyntaxError(`line ${part.line}: expected an identifier after "."`);
        name += '.' + part.v;
      }
      const after = this.peek();
      if (after.t === 'punct' && after.v === '=') {
        if (name.includes('.'))
          throw new AlloySyntaxError(`line ${first.line}: attribute names cannot contain "."`);
        this.next();
        attributes.push({ name, value: this.expr(), line: first.line });
        this.endStatement();
        continue;
      }
      let label: string | undefined;
      if (after.t === 'string') {
        label = after.v;
        this.next();
        if (!/^[\p{L}_][\p{L}\p{N}_]*$/u.test(label))
          throw new AlloySyntaxError(`line ${first.line}: block label "${label}" is not an identifier`);
      }
      this.expectPunct('{');
      const inner = this.body(false);
      this.expectPunct('}');
      blocks.push({ name, ...(label === undefined ? {} : { label }), ...inner, line: first.line });
      this.endStatement();
    }
  }

  private expr(): Value {
    this.skipNewlinesInExpr();
    const tok = this.next();
    if (tok.t === 'string') return { kind: 'string', value: tok.v };
    if (tok.t === 'number') return { kind: 'number', value: tok.v };
    if (tok.t === 'punct' && tok.v === '[') return this.array();
    if (tok.t === 'punct' && tok.v === '{') return this.object();
    if (tok.t === 'ident') {
      if (tok.v === 'true' || tok.v === 'false') return { kind: 'bool', value: tok.v === 'true' };
      if (tok.v === 'null') return { kind: 'null' };
      let path = tok.v;
      while (this.peek().t === 'punct' && (this.peek() as { v: string }).v === '.') {
        this.next();
        const part = this.next();
        if (part.t !== 'ident')
          throw new AlloySyntaxError(`line ${part.line}: expected an identifier after "."`);
        path += '.' + part.v;
      }
      if (this.peek().t === 'punct' && (this.peek() as { v: string }).v === '(') {
        this.next();
        const args: Value[] = [];
        while (!(this.peek().t === 'punct' && (this.peek() as { v: string }).v === ')')) {
          args.push(this.expr());
          if (this.peek().t === 'punct' && (this.peek() as { v: string }).v === ',') this.next();
        }
        this.next();
        return { kind: 'call', fn: path, args };
      }
      return { kind: 'ref', path };
    }
    throw new AlloySyntaxError(`line ${tok.line}: expected a value`);
  }

  /** Inside [] and {} newlines are not terminators. */
  private skipNewlinesInExpr(): void {
    this.skipNewlines();
  }

  private array(): Value {
    const items: Value[] = [];
    for (;;) {
      this.skipNewlines();
      const tok = this.peek();
      if (tok.t === 'punct' && tok.v === ']') {
        this.next();
        return { kind: 'array', items };
      }
      items.push(this.expr());
      this.skipNewlines();
      const sep = this.peek();
      if (sep.t === 'punct' && sep.v === ',') this.next();
      else if (!(sep.t === 'punct' && sep.v === ']'))
        throw new AlloySyntaxError(`line ${sep.line}: expected "," or "]"`);
    }
  }

  private object(): Value {
    const entries: [string, Value][] = [];
    for (;;) {
      this.skipNewlines();
      const tok = this.next();
      if (tok.t === 'punct' && tok.v === '}') return { kind: 'object', entries };
      if (tok.t !== 'ident' && tok.t !== 'string')
        throw new AlloySyntaxError(`line ${tok.line}: expected an object key`);
      this.expectPunct('=');
      entries.push([tok.v, this.expr()]);
      this.skipNewlines();
      const sep = this.peek();
      if (sep.t === 'punct' && sep.v === ',') this.next();
      else if (!(sep.t === 'punct' && sep.v === '}'))
        throw new AlloySyntaxError(`line ${sep.line}: expected "," or "}"`);
    }
  }
}

/** Parses a whole configuration file into its top-level blocks (and attributes). */
export function parseAlloy(text: string): { attributes: Attribute[]; blocks: Block[] } {
  return new Parser(tokenize(text)).body(true);
}

/** Decodes one double-quoted Alloy string literal (with its quotes). */
export function decodeAlloyString(literal: string): string {
  if (!literal.startsWith('"') || !literal.endsWith('"') || literal.length < 2)
    throw new AlloySyntaxError('not a string literal');
  const tokens = tokenize(literal);
  const tok = tokens[0]!;
  if (tok.t !== 'string' || tokens.length !== 2) throw new AlloySyntaxError('not a single string literal');
  return tok.v;
}

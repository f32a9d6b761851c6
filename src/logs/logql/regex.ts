/**
 * LogQL regexes are Go RE2. Most of RE2 is JavaScript syntax already; this translates the rest
 * that queries use in practice: leading flag groups `(?i)` `(?s)` `(?m)`, `(?P<name>…)` groups,
 * `\A` / `\z`, and POSIX classes such as `[[:alpha:]]`.
 */
export class RegexSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RegexSyntaxError';
  }
}

const POSIX: Record<string, string> = {
  alpha: 'a-zA-Z',
  digit: '0-9',
  alnum: 'a-zA-Z0-9',
  upper: 'A-Z',
  lower: 'a-z',
  space: '\\s',
  word: '\\w',
  xdigit: '0-9a-fA-F',
  punct: '!-\\/:-@\\[-`{-~',
  blank: ' \\t',
  cntrl: '\\x00-\\x1f\\x7f',
  print: ' -~',
  graph: '!-~',
  ascii: '\\x00-\\x7f',
};

export interface JsRegex {
  readonly source: string;
  readonly flags: string;
}

export function goRegexToJs(go: string): JsRegex {
  let src = go;
  let flags = '';
  for (;;) {
    const m = /^\(\?([imsU]+)\)/.exec(src);
    if (!m) break;
    for (const f of m[1]!) {
      if (f === 'U') throw new RegexSyntaxError('the (?U) ungreedy flag is not supported');
      if (!flags.includes(f)) flags += f;
    }
    src = src.slice(m[0].length);
  }
  let out = '';
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\\') {
      const n = src[i + 1];
      if (!inClass && n === 'A') out += '^';
      else if (!inClass && n === 'z') out += '$';
      else if (n === 'Q') {
        const end = src.indexOf('\\E', i + 2);
        const lit = end < 0 ? src.slice(i + 2) : src.slice(i + 2, end);
        out += lit.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
        i = end < 0 ? src.length : end + 1;
        continue;
      } else out += c + (n ?? '');
      i++;
      continue;
    }
    if (inClass) {
      if (c === '[' && src[i + 1] === ':') {
        const end = src.indexOf(':]', i + 2);
        const name = end < 0 ? '' : src.slice(i + 2, end);
        const neg = name.startsWith('^');
        const cls = POSIX[neg ? name.slice(1) : name];
        if (cls === undefined || neg) throw new RegexSyntaxError(`unsupported character class [:${name}:]`);
        out += cls;
        i = end + 1;
        continue;
      }
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      if (src[i + 1] === '^') {
        out += '^';
        i++;
      }
      if (src[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '(' && src.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
      continue;
    }
    out += c;
  }
  try {
    new RegExp(out, flags);
  } catch (err) {
    throw new RegexSyntaxError(`invalid regular expression ${JSON.stringify(go)}: ${(err as Error).message}`);
  }
  return { source: out, flags };
}

/** Compiles a Go regex as an unanchored JS RegExp (line filters, the regexp parser). */
export function compileGoRegex(go: string): RegExp {
  const { source, flags } = goRegexToJs(go);
  return new RegExp(source, flags);
}

/**
 * A flag-free JS regex source equivalent to a translated one, for code paths that take only a
 * pattern (anchored label matchers): `i` becomes explicit case alternatives and `s` turns `.`
 * into `[\s\S]`.
 */
export function inlineFlags(re: JsRegex): string {
  if (re.flags === '' || re.flags === 'm') return re.source;
  const ci = re.flags.includes('i');
  const dotAll = re.flags.includes('s');
  let out = '';
  let inClass = false;
  const src = re.source;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === '\\') {
      const n = src[i + 1] ?? '';
      // Escapes that carry further characters (\x41, \u0041, \p{L}, \k<name>) are kept whole.
      const long = /^(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|[pPk]\{[^}]*\}|k<[^>]*>|c[a-zA-Z])/.exec(
        src.slice(i + 1),
      );
      const esc = long ? long[0] : n;
      out += '\\' + esc;
      i += esc.length;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      else if (ci && /[a-zA-Z]/.test(c)) {
        if (src[i + 1] === '-' && /[a-zA-Z]/.test(src[i + 2] ?? '')) {
          const to = src[i + 2]!;
          out += `${c}-${to}${swapCase(c)}-${swapCase(to)}`;
          i += 2;
          continue;
        }
        out += c + swapCase(c);
        continue;
      }
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      continue;
    }
    if (c === '(' && src[i + 1] === '?') {
      // Copy group prefixes ((?:, (?<name>, (?=, (?!) verbatim so their letters stay literal.
      const m = /^\(\?(?:<[a-zA-Z_][a-zA-Z0-9_]*>|<=|<!|[:=!])/.exec(src.slice(i));
      if (m) {
        out += m[0];
        i += m[0].length - 1;
        continue;
      }
    }
    if (dotAll && c === '.') {
      out += '[\\s\\S]';
      continue;
    }
    if (ci && /[a-zA-Z]/.test(c)) {
      out += `[${c}${swapCase(c)}]`;
      continue;
    }
    out += c;
  }
  return out;
}

function swapCase(c: string): string {
  const u = c.toUpperCase();
  return u === c ? c.toLowerCase() : u;
}

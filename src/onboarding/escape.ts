import { ValidationError } from '../tenancy/errors.ts';

/**
 * Escaping for the three formats the onboarding generators write. Every value that reaches a
 * generated file goes through exactly one of these; nothing is concatenated raw.
 */

/** Characters no generated file can carry: NUL cannot live in a shell word, and lone surrogates are not UTF-8. */
export function assertEncodable(value: string, what: string): void {
  if (value.includes('\0')) throw new ValidationError(`${what} contains a NUL character`);
  if (LONE_SURROGATE.test(value))
    throw new ValidationError(`${what} contains a lone UTF-16 surrogate (not valid Unicode)`);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const ALLOY_SHORT_ESCAPES: Record<string, string> = {
  '\\': '\\\\',
  '"': '\\"',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

/**
 * An Alloy (River) double-quoted string literal. Per Alloy's "Types and values" page: `\\`, `\"`,
 * `\n`, `\r`, `\t` and `\uNNNN` are escape sequences; there is no interpolation, so `$`, `${}` and
 * backticks are ordinary characters. Other C0/C1 controls, DEL and the Unicode line separators are
 * written as `\uNNNN` so the file stays one statement per line; everything else is UTF-8 as is.
 */
export function alloyString(value: string): string {
  assertEncodable(value, 'a value for the Alloy configuration');
  let out = '"';
  for (const ch of value) {
    const short = ALLOY_SHORT_ESCAPES[ch];
    if (short !== undefined) {
      out += short;
      continue;
    }
    const code = ch.codePointAt(0)!;
    if (code < 0x20 || (code >= 0x7f && code <= 0x9f) || code === 0x2028 || code === 0x2029) {
      out += '\\u' + code.toString(16).padStart(4, '0');
    } else {
      out += ch;
    }
  }
  return out + '"';
}

/**
 * A POSIX shell word that is exactly `value`: single quotes, with each `'` written as `'\''`.
 * Inside single quotes nothing is special (`$`, backslash, backtick, newline), so this is safe
 * for any string without NUL.
 */
export function shellQuote(value: string): string {
  assertEncodable(value, 'a value for the install script');
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * A relabel `replacement` that yields `value` literally. Prometheus and Alloy expand `$1`, `${1}`
 * and `$name` in replacements (Go's regexp.Expand), where `$$` stands for a literal `$`.
 */
export function literalReplacement(value: string): string {
  return value.replaceAll('$', () => '$$');
}

/**
 * Text for a one-line comment in any of the formats: the value quoted and escaped as an Alloy
 * string (no raw line break of any kind — C0/C1 controls and U+2028/9 are `\uNNNN`), so a hostile
 * value can never end the comment and start a statement.
 */
export function commentValue(value: string): string {
  return alloyString(value);
}

/**
 * PromQL literal syntax as Prometheus 2.x reads and prints it: numbers, durations, quoted strings,
 * and the Go float formats the HTTP API and `format_query` use.
 */

const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const DURATION_UNITS_MS = [365 * 86_400_000, 7 * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1];

/** Parses a Prometheus duration (`1h30m`, `5m`, `90s`, `100ms`; units in descending order) to ms. */
export function parsePromDuration(text: string): number | undefined {
  if (text === '0') return 0;
  if (text === '') return undefined;
  const m = DURATION_RE.exec(text);
  if (!m) return undefined;
  let ms = 0;
  for (let i = 0; i < DURATION_UNITS_MS.length; i++) {
    const part = m[i + 1];
    if (part !== undefined) ms += Number(part) * DURATION_UNITS_MS[i]!;
  }
  if (!Number.isSafeInteger(ms)) return undefined;
  return ms;
}

/** Prints a duration the way Prometheus does (`1h30m`, `90d`, `2w`); years and weeks only when exact. */
export function formatPromDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  const unit = (suffix: string, mult: number, exact: boolean): void => {
    if (exact && rest % mult !== 0) return;
    const v = Math.floor(rest / mult);
    if (v > 0) {
      out += `${v}${suffix}`;
      rest -= v * mult;
    }
  };
  unit('y', DURATION_UNITS_MS[0]!, true);
  unit('w', DURATION_UNITS_MS[1]!, true);
  unit('d', DURATION_UNITS_MS[2]!, false);
  unit('h', DURATION_UNITS_MS[3]!, false);
  unit('m', DURATION_UNITS_MS[4]!, false);
  unit('s', DURATION_UNITS_MS[5]!, false);
  unit('ms', 1, false);
  return out;
}

const DECIMAL_FLOAT_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const HEX_INT_RE = /^[+-]?0[xX][0-9a-fA-F]+$/;
const INF_RE = /^[+-]?(?:inf|infinity)$/i;

/**
 * Go's strconv.ParseFloat for the inputs that matter here (decimal, hex integer, Inf, NaN);
 * undefined when the text is not a number. Used for time parameters and `le` bucket bounds.
 */
export function parseGoFloat(text: string): number | undefined {
  if (DECIMAL_FLOAT_RE.test(text)) return Number(text);
  if (INF_RE.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  if (/^[+-]?nan$/i.test(text)) return NaN;
  if (HEX_INT_RE.test(text)) {
    const neg = text.startsWith('-');
    const v = Number(text.replace(/^[+-]/, ''));
    return neg ? -v : v;
  }
  return undefined;
}

/** A PromQL number literal (as the 2.x lexer accepts it: decimal, float, hex, octal `017`, Inf, NaN). */
export function parseNumberLiteral(text: string): number | undefined {
  const lower = text.toLowerCase();
  if (lower === 'inf') return Infinity;
  if (lower === 'nan') return NaN;
  if (/^0[xX][0-9a-fA-F]+$/.test(text)) return Number(text);
  // Go's ParseInt with base 0 reads a leading zero as octal; invalid octal falls back to a float.
  if (/^0[0-7]+$/.test(text)) return parseInt(text.slice(1), 8);
  if (/^(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/.test(text)) return Number(text);
  return undefined;
}

const SIMPLE_ESCAPES: Record<string, string> = {
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  '\\': '\\',
};

/** Unquotes a PromQL string literal ("…", '…' with Go escapes, or `raw`). Throws on bad syntax. */
export function unquoteString(text: string): string {
  const quote = text[0];
  if (text.length < 2 || text[text.length - 1] !== quote) throw new Error('unterminated quoted string');
  const body = text.slice(1, -1);
  if (quote === '`') {
    if (body.includes('`')) throw new Error('invalid syntax');
    return body;
  }
  if (quote !== '"' && quote !== "'") throw new Error('invalid syntax');
  let out = '';
  // Escapes like \xNN and octal produce raw bytes in Go; collect those and decode them as UTF-8.
  let bytes: number[] = [];
  const flushBytes = (): void => {
    if (bytes.length) {
      out += Buffer.from(bytes).toString('utf8');
      bytes = [];
    }
  };
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\n') throw new Error('invalid syntax');
    if (c === quote) throw new Error('invalid syntax');
    if (c !== '\\') {
      flushBytes();
      out += c;
      continue;
    }
    const e = body[++i];
    if (e === undefined) throw new Error('invalid syntax');
    if (e in SIMPLE_ESCAPES) {
      flushBytes();
      out += SIMPLE_ESCAPES[e];
    } else if (e === quote) {
      flushBytes();
      out += e;
    } else if (e === 'x') {
      const hex = body.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new Error('invalid syntax');
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (e >= '0' && e <= '7') {
      const oct = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(oct) || parseInt(oct, 8) > 255) throw new Error('invalid syntax');
      bytes.push(parseInt(oct, 8));
      i += 2;
    } else if (e === 'u' || e === 'U') {
      const len = e === 'u' ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + len);
      if (hex.length !== len || !/^[0-9a-fA-F]+$/.test(hex)) throw new Error('invalid syntax');
      const cp = parseInt(hex, 16);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) throw new Error('invalid syntax');
      flushBytes();
      out += String.fromCodePoint(cp);
      i += len;
    } else {
      throw new Error('invalid syntax');
    }
  }
  flushBytes();
  return out;
}

const PRINTABLE_RE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

/** Go's strconv.Quote (what Prometheus prints for `%q`): double quotes, Go escapes for the unprintable. */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    switch (ch) {
      case '"':
        out += '\\"';
        continue;
      case '\\':
        out += '\\\\';
        continue;
      case '\x07':
        out += '\\a';
        continue;
      case '\b':
        out += '\\b';
        continue;
      case '\f':
        out += '\\f';
        continue;
      case '\n':
        out += '\\n';
        continue;
      case '\r':
        out += '\\r';
        continue;
      case '\t':
        out += '\\t';
        continue;
      case '\v':
        out += '\\v';
        continue;
    }
    if (PRINTABLE_RE.test(ch)) {
      out += ch;
      continue;
    }
    const cp = ch.codePointAt(0)!;
    if (cp < 0x80) out += '\\x' + cp.toString(16).padStart(2, '0');
    else if (cp < 0x10000) out += '\\u' + cp.toString(16).padStart(4, '0');
    else out += '\\U' + cp.toString(16).padStart(8, '0');
  }
  return out + '"';
}

/** Shortest round-trip digits and decimal exponent of a finite non-zero number (|v| = 0.d1d2… × 10^dp). */
function shortestDigits(v: number): { digits: string; dp: number } {
  const [mant, exp] = Math.abs(v).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '');
  return { digits, dp: Number(exp) + 1 };
}

function fixedFromDigits(digits: string, dp: number): string {
  if (dp <= 0) return '0.' + '0'.repeat(-dp) + digits;
  if (dp >= digits.length) return digits + '0'.repeat(dp - digits.length);
  return digits.slice(0, dp) + '.' + digits.slice(dp);
}

function expFromDigits(digits: string, dp: number): string {
  const exp = dp - 1;
  const mant = digits.length > 1 ? digits[0] + '.' + digits.slice(1) : digits;
  const sign = exp < 0 ? '-' : '+';
  return `${mant}e${sign}${String(Math.abs(exp)).padStart(2, '0')}`;
}

function specialFloat(v: number): string | undefined {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  return undefined;
}

/** strconv.FormatFloat(v, 'f', -1, 64): shortest digits, never an exponent. */
export function formatFloatF(v: number): string {
  const special = specialFloat(v);
  if (special !== undefined) return special;
  const abs = Math.abs(v);
  // Within this range JavaScript prints the same shortest digits without an exponent.
  if (abs >= 1e-6 && abs < 1e21) return String(v);
  const { digits, dp } = shortestDigits(v);
  return (v < 0 ? '-' : '') + fixedFromDigits(digits, dp);
}

/** strconv.FormatFloat(v, 'e', -1, 64). */
export function formatFloatE(v: number): string {
  const special = specialFloat(v);
  if (special !== undefined) return special === '0' ? '0e+00' : special;
  const { digits, dp } = shortestDigits(v);
  return (v < 0 ? '-' : '') + expFromDigits(digits, dp);
}

/** Go's `%v` / `%g` for a float64 (how Prometheus prints number literals): exponent below 1e-4 and from 1e6. */
export function formatFloatG(v: number): string {
  const special = specialFloat(v);
  if (special !== undefined) return special;
  const { digits, dp } = shortestDigits(v);
  const exp = dp - 1;
  const sign = v < 0 ? '-' : '';
  if (exp < -4 || exp >= 6) return sign + expFromDigits(digits, dp);
  return sign + fixedFromDigits(digits, dp);
}

/** The sample value format of the Prometheus HTTP API: 'f' with an exponent below 1e-6 and from 1e21. */
export function formatApiValue(v: number): string {
  // JavaScript's own number format switches to exponents at exactly the same magnitudes; only
  // the exponent's width (Go writes at least two digits) and the sign of zero differ.
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf';
  const s = String(v);
  const e = s.indexOf('e');
  if (e < 0) return s;
  const digits = s.length - e - 2;
  return digits >= 2 ? s : `${s.slice(0, e + 2)}0${s.slice(e + 2)}`;
}

/** Go's `%f`: six decimals. */
export function formatFloatFixed6(v: number): string {
  const special = specialFloat(v);
  if (special !== undefined && special !== '0' && special !== '-0') return special;
  return v.toFixed(6);
}

import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { parseJsonPath, splitPattern, type PatternPart } from './parser.ts';
import type { LabelsBuilder } from './labels-builder.ts';

/** Loki's parser error kinds (the value of `__error__`). */
export const JSON_PARSER_ERR = 'JSONParserErr';
export const LOGFMT_PARSER_ERR = 'LogfmtParserErr';
export const LABEL_FILTER_ERR = 'LabelFilterErr';
export const SAMPLE_EXTRACTION_ERR = 'SampleExtractionErr';
export const TEMPLATE_FORMAT_ERR = 'TemplateFormatErr';

const DUPLICATE_SUFFIX = '_extracted';

/** Turns an arbitrary key into a label name: invalid characters become `_`, a leading digit gets `_`. */
export function sanitizeLabelKey(key: string): string {
  let out = '';
  for (const ch of key.trim()) out += /[a-zA-Z0-9_]/.test(ch) ? ch : '_';
  if (out !== '' && out.charCodeAt(0) >= 48 && out.charCodeAt(0) <= 57) out = '_' + out;
  return out;
}

function extractedName(lbs: LabelsBuilder, name: string): string {
  return lbs.baseHas(name) ? name + DUPLICATE_SUFFIX : name;
}

// ------------------------------------------------------------------ json

function flatten(obj: Record<string, unknown>, prefix: string, lbs: LabelsBuilder): void {
  for (const key of Object.keys(obj)) {
    const v = obj[key];
    const name = prefix === '' ? sanitizeLabelKey(key) : `${prefix}_${sanitizeLabelKey(key)}`;
    if (v === null || Array.isArray(v)) continue;
    if (typeof v === 'object') {
      flatten(v as Record<string, unknown>, name, lbs);
      continue;
    }
    if (name === '') continue;
    lbs.setParsed(extractedName(lbs, name), typeof v === 'string' ? v : String(v));
  }
}

/** `| json`: every scalar field becomes a label, nested objects joined with `_`; arrays skipped. */
export function parseJsonLine(line: string, lbs: LabelsBuilder): void {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch (err) {
    lbs.setError(JSON_PARSER_ERR, (err as Error).message);
    return;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    lbs.setError(JSON_PARSER_ERR, 'expecting a JSON object');
    return;
  }
  flatten(doc as Record<string, unknown>, '', lbs);
}

/** `| json a="x.y[0]", b`: only the listed paths; a missing path gives an empty label. */
export function jsonExtractor(
  extractions: readonly { label: string; expr: string }[],
): (line: string, lbs: LabelsBuilder) => void {
  const paths = extractions.map((e) => ({ label: e.label, path: parseJsonPath(e.expr) ?? [e.expr] }));
  return (line, lbs) => {
    const c = line.trimStart()[0];
    let doc: unknown;
    if (c === '{' || c === '[' || c === '"') {
      try {
        doc = JSON.parse(line);
      } catch (err) {
        lbs.setError(JSON_PARSER_ERR, (err as Error).message);
      }
    } else {
      lbs.setError(JSON_PARSER_ERR, 'the line is not JSON');
    }
    for (const { label, path } of paths) {
      let v: unknown = doc;
      for (const step of path) {
        if (v === null || typeof v !== 'object') {
          v = undefined;
          break;
        }
        v = (v as Record<string | number, unknown>)[step];
      }
      const name = extractedName(lbs, label);
      if (v === undefined || v === null) lbs.setParsed(name, '');
      else
        lbs.setParsed(
          name,
          typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v),
        );
    }
  };
}

/** `| unpack`: string fields become labels; `_entry` replaces the line (Promtail's pack stage). */
export function unpackLine(line: string, lbs: LabelsBuilder): string {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch (err) {
    lbs.setError(JSON_PARSER_ERR, (err as Error).message);
    return line;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    lbs.setError(JSON_PARSER_ERR, 'expecting a JSON object');
    return line;
  }
  let entry = line;
  for (const [key, v] of Object.entries(doc as Record<string, unknown>)) {
    if (typeof v !== 'string') continue;
    if (key === '_entry') {
      entry = v;
      continue;
    }
    const name = sanitizeLabelKey(key);
    if (name !== '') lbs.setParsed(extractedName(lbs, name), v);
  }
  return entry;
}

// ------------------------------------------------------------------ logfmt

export interface LogfmtPair {
  key: string;
  value: string;
  /** `key` without `=`. */
  standalone: boolean;
}

/**
 * Decodes logfmt (`a=1 b="two words" flag`). Lenient mode skips malformed tokens and keeps
 * going; strict mode stops at the first one and reports it.
 */
export function decodeLogfmt(line: string, strict: boolean): { pairs: LogfmtPair[]; error?: string } {
  const pairs: LogfmtPair[] = [];
  const n = line.length;
  let i = 0;
  const isSpace = (c: number): boolean => c <= 32;
  while (i < n) {
    while (i < n && isSpace(line.charCodeAt(i))) i++;
    if (i >= n) break;
    const keyStart = i;
    while (i < n) {
      const c = line.charCodeAt(i);
      if (isSpace(c) || c === 61 /* = */ || c === 34 /* " */) break;
      i++;
    }
    const key = line.slice(keyStart, i);
    /** Strict mode stops at a malformed token (true); lenient mode skips the rest of it. */
    const stopAtBadToken = (): boolean => {
      if (strict) return true;
      while (i < n && !isSpace(line.charCodeAt(i))) i++;
      return false;
    };
    if (key === '') {
      const what = `unexpected ${JSON.stringify(line[i])} at position ${i}`;
      if (stopAtBadToken()) return { pairs, error: `logfmt syntax error at pos ${i + 1}: ${what}` };
      if (i < n && !isSpace(line.charCodeAt(i))) i++;
      continue;
    }
    if (i >= n || isSpace(line.charCodeAt(i))) {
      pairs.push({ key, value: '', standalone: true });
      continue;
    }
    if (line.charCodeAt(i) !== 61) {
      const what = `unexpected '"' in key ${JSON.stringify(key)}`;
      if (stopAtBadToken()) return { pairs, error: `logfmt syntax error at pos ${i + 1}: ${what}` };
      continue;
    }
    i++; // '='
    if (i < n && line.charCodeAt(i) === 34) {
      // Quoted value with Go-style escapes.
      let j = i + 1;
      let value = '';
      let closed = false;
      while (j < n) {
        const ch = line[j]!;
        if (ch === '\\' && j + 1 < n) {
          const e = line[j + 1]!;
          const map: Record<string, string> = {
            n: '\n',
            t: '\t',
            r: '\r',
            '"': '"',
            '\\': '\\',
            '/': '/',
            b: '\b',
            f: '\f',
          };
          if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(line.slice(j + 2, j + 6))) {
            value += String.fromCharCode(parseInt(line.slice(j + 2, j + 6), 16));
            j += 6;
            continue;
          }
          value += map[e] ?? e;
          j += 2;
          continue;
        }
        if (ch === '"') {
          closed = true;
          break;
        }
        value += ch;
        j++;
      }
      if (!closed) {
        if (strict) return { pairs, error: `logfmt syntax error at pos ${i + 1}: unterminated quoted value` };
        i = n;
        continue;
      }
      i = j + 1;
      pairs.push({ key, value, standalone: false });
      continue;
    }
    const valStart = i;
    while (i < n && !isSpace(line.charCodeAt(i))) {
      const c = line.charCodeAt(i);
      if (c === 34 || c === 61) break;
      i++;
    }
    if (i < n && !isSpace(line.charCodeAt(i))) {
      const what = `unexpected ${JSON.stringify(line[i])} in value of ${JSON.stringify(key)}`;
      if (stopAtBadToken()) return { pairs, error: `logfmt syntax error at pos ${i + 1}: ${what}` };
      continue;
    }
    pairs.push({ key, value: line.slice(valStart, i), standalone: false });
  }
  return { pairs };
}

export function logfmtParser(opts: {
  strict: boolean;
  keepEmpty: boolean;
  extractions?: readonly { label: string; expr: string }[] | undefined;
}): (line: string, lbs: LabelsBuilder) => void {
  const wanted = opts.extractions?.length
    ? new Map(opts.extractions.map((e) => [e.expr, e.label]))
    : undefined;
  return (line, lbs) => {
    const { pairs, error } = decodeLogfmt(line, opts.strict);
    if (wanted) for (const label of wanted.values()) if (!lbs.baseHas(label)) lbs.setParsed(label, '');
    for (const p of pairs) {
      if (p.standalone && !opts.keepEmpty) continue;
      if (wanted) {
        const label = wanted.get(p.key);
        if (label === undefined) continue;
        lbs.setParsed(extractedName(lbs, label), p.value);
        continue;
      }
      const name = sanitizeLabelKey(p.key);
      if (name === '') continue;
      lbs.setParsed(extractedName(lbs, name), p.value);
    }
    if (error !== undefined) lbs.setError(LOGFMT_PARSER_ERR, error);
  };
}

// ------------------------------------------------------------------ pattern

/**
 * Loki's pattern matcher: a leading literal must start the line; each capture runs up to the
 * next literal; a capture whose next literal is missing takes the rest of the line and matching
 * stops there. Returns [name, value] pairs of the named captures that matched.
 */
export function compilePattern(
  pattern: string,
  only?: ReadonlySet<string>,
): (line: string) => [string, string][] | null {
  let parts: PatternPart[] = splitPattern(pattern);
  if (only) {
    // Nothing after the last capture the query needs has to be matched.
    let last = -1;
    parts.forEach((p, i) => {
      if (p.kind === 'capture' && (only.has(p.name) || only.has(`${p.name}_extracted`))) last = i;
    });
    parts = parts.slice(0, last + 2);
  }
  return (line) => {
    if (line === '' || parts.length === 0) return null;
    let pos = 0;
    let k = 0;
    const out: [string, string][] = [];
    const first = parts[0]!;
    if (first.kind === 'literal') {
      if (!line.startsWith(first.text)) return null;
      pos = first.text.length;
      k = 1;
    }
    while (k < parts.length) {
      const cap = parts[k]!;
      if (cap.kind !== 'capture') return out; // trailing literal: nothing more to capture
      const next = parts[k + 1];
      if (!next) {
        if (cap.name !== '_') out.push([cap.name, line.slice(pos)]);
        return out;
      }
      const lit = (next as { kind: 'literal'; text: string }).text;
      const at = line.indexOf(lit, pos);
      if (at < 0) {
        if (cap.name !== '_') out.push([cap.name, line.slice(pos)]);
        return out;
      }
      if (cap.name !== '_') out.push([cap.name, line.slice(pos, at)]);
      pos = at + lit.length;
      k += 2;
    }
    return out;
  };
}

/** The `|>` line filter: every literal of the pattern appears in order, anchored at both ends. */
export function compilePatternFilter(pattern: string): (line: string) => boolean {
  const parts = splitPattern(pattern);
  return (line) => {
    let pos = 0;
    for (let k = 0; k < parts.length; k++) {
      const p = parts[k]!;
      if (p.kind === 'capture') continue;
      if (k === 0) {
        if (!line.startsWith(p.text)) return false;
        pos = p.text.length;
        continue;
      }
      const at = line.indexOf(p.text, pos);
      if (at < 0) return false;
      pos = at + p.text.length;
      if (k === parts.length - 1 && !line.endsWith(p.text)) return false;
    }
    return true;
  };
}

// ------------------------------------------------------------------ ip

/** `ip("192.168.0.1")`, `ip("10.0.0.0/8")`, `ip("10.0.0.1-10.0.0.9")` for IPv4 and IPv6. */
export function compileIpMatcher(pattern: string): (candidate: string) => boolean {
  const list = new BlockList();
  const p = pattern.trim();
  const family = (a: string): 'ipv4' | 'ipv6' | undefined =>
    isIPv4(a) ? 'ipv4' : isIPv6(a) ? 'ipv6' : undefined;
  if (p.includes('/')) {
    const [addr = '', bits = ''] = p.split('/');
    const f = family(addr);
    if (!f || !/^\d+$/.test(bits)) throw new Error(`invalid CIDR ${JSON.stringify(pattern)}`);
    list.addSubnet(addr, Number(bits), f);
  } else if (p.includes('-')) {
    const [from = '', to = ''] = p.split('-').map((s) => s.trim());
    const f = family(from);
    if (!f || family(to) !== f) throw new Error(`invalid IP range ${JSON.stringify(pattern)}`);
    list.addRange(from, to, f);
  } else {
    const f = family(p);
    if (!f) throw new Error(`invalid IP address ${JSON.stringify(pattern)}`);
    list.addAddress(p, f);
  }
  return (candidate) => {
    const f = family(candidate);
    return f !== undefined && list.check(candidate, f);
  };
}

const IP_CANDIDATE = /[0-9a-fA-F:.]{2,}/g;

/** True when any IP-looking token of the line matches. */
export function lineHasIp(line: string, match: (ip: string) => boolean): boolean {
  for (const m of line.matchAll(IP_CANDIDATE)) {
    const token = m[0].replace(/^[.:]+|[.:]+$/g, (s) => (s === '::' ? s : ''));
    if (match(token) || match(m[0])) return true;
  }
  return false;
}

// ------------------------------------------------------------------ decolorize

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;

export function decolorize(line: string): string {
  return line.includes('\x1b') ? line.replace(ANSI, '') : line;
}

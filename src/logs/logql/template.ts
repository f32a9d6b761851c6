import { readGoString } from '../push/stream-selector.ts';
import { compileGoRegex } from './regex.ts';

/**
 * The subset of Go's text/template that `line_format` and `label_format` use:
 *
 *   text {{ .label }} text                     label values (a missing label is "")
 *   {{ .a | ToUpper | printf "%s!" }}          pipelines: the value becomes the last argument
 *   {{ if eq .status "500" }}…{{ else if … }}…{{ else }}…{{ end }}
 *   {{- trims -}} whitespace, {{/* comments *\/}}
 *   {{ __line__ }} the current line, {{ __timestamp__ }} the entry time
 *
 * Functions: ToLower ToUpper lower upper title Replace replace Trim TrimLeft TrimRight TrimSpace
 * TrimPrefix TrimSuffix trim trimAll trimPrefix trimSuffix contains hasPrefix hasSuffix repeat
 * substr trunc indent nindent regexReplaceAll regexReplaceAllLiteral default count len printf
 * urlencode urldecode b64enc b64dec int float64 add sub mul div mod addf subf mulf divf ceil floor
 * round max min alignLeft alignRight unixEpoch unixEpochMillis unixEpochNanos unixToTime date now
 * eq ne lt le gt ge and or not.
 */
export interface TemplateContext {
  label(name: string): string | undefined;
  readonly line: string;
  readonly ms: number;
  readonly ns: number;
}

export interface Template {
  render(ctx: TemplateContext): string;
  /** Labels the template reads (`.name`). */
  readonly labels: readonly string[];
  /** True when the template is plain text without actions. */
  readonly constant: boolean;
}

type Value = string | number | boolean | Date;

type Operand =
  | { readonly t: 'field'; readonly name: string }
  | { readonly t: 'lit'; readonly v: Value }
  | { readonly t: 'fn'; readonly name: string }
  | { readonly t: 'pipe'; readonly p: Pipeline };

type Command = readonly Operand[];
type Pipeline = readonly Command[];

type Node =
  | { readonly t: 'text'; readonly s: string }
  | { readonly t: 'out'; readonly p: Pipeline }
  | {
      readonly t: 'if';
      readonly branches: readonly { cond: Pipeline; body: Node[] }[];
      readonly otherwise: Node[];
    };

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

// ------------------------------------------------------------------ parsing

interface Action {
  readonly body: string;
}

function splitTemplate(src: string): (string | Action)[] {
  const out: (string | Action)[] = [];
  let i = 0;
  let text = '';
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) {
      text += src.slice(i);
      break;
    }
    text += src.slice(i, open);
    let start = open + 2;
    if (src[start] === '-' && /\s/.test(src[start + 1] ?? '')) {
      text = text.replace(/\s+$/, '');
      start++;
    }
    // Find the closing braces outside string literals.
    let j = start;
    let close = -1;
    while (j < src.length) {
      const c = src[j];
      if (c === '"') {
        j++;
        while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
        j++;
        continue;
      }
      if (c === '`') {
        const e = src.indexOf('`', j + 1);
        if (e < 0) break;
        j = e + 1;
        continue;
      }
      if (src.startsWith('}}', j)) {
        close = j;
        break;
      }
      j++;
    }
    if (close < 0) throw new TemplateError('unclosed action: missing "}}"');
    let body = src.slice(start, close);
    let next = close + 2;
    if (/\s-$/.test(body)) {
      body = body.slice(0, -1);
      while (next < src.length && /\s/.test(src[next]!)) next++;
    }
    if (text !== '') out.push(text);
    text = '';
    out.push({ body: body.trim() });
    i = next;
  }
  if (text !== '') out.push(text);
  return out;
}

type Token =
  | { k: 'field'; v: string }
  | { k: 'str'; v: string }
  | { k: 'num'; v: number }
  | { k: 'id'; v: string }
  | { k: 'punct'; v: string };

function tokenize(body: string): Token[] {
  const toks: Token[] = [];
  let i = 0;
  while (i < body.length) {
    const c = body[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '|' || c === '(' || c === ')') {
      toks.push({ k: 'punct', v: c });
      i++;
      continue;
    }
    if (c === '"' || c === '`') {
      try {
        const { value, end } = readGoString(body, i);
        toks.push({ k: 'str', v: value });
        i = end;
      } catch (err) {
        throw new TemplateError((err as Error).message);
      }
      continue;
    }
    if (c === '.') {
      const m = /^\.([a-zA-Z_][a-zA-Z0-9_]*)/.exec(body.slice(i));
      if (!m)
        throw new TemplateError(`unsupported field reference near ${JSON.stringify(body.slice(i, i + 10))}`);
      toks.push({ k: 'field', v: m[1]! });
      i += m[0].length;
      continue;
    }
    const num = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(body.slice(i));
    if (num && (c !== '+' && c !== '-' ? true : /\d|\./.test(body[i + 1] ?? ''))) {
      toks.push({ k: 'num', v: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    const id = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(body.slice(i));
    if (id) {
      toks.push({ k: 'id', v: id[0] });
      i += id[0].length;
      continue;
    }
    throw new TemplateError(`unexpected ${JSON.stringify(c)} in action`);
  }
  return toks;
}

function parsePipeline(toks: Token[], pos: { i: number }, inParens: boolean): Pipeline {
  const cmds: Command[] = [];
  let cmd: Operand[] = [];
  while (pos.i < toks.length) {
    const t = toks[pos.i]!;
    if (t.k === 'punct' && t.v === ')') {
      if (!inParens) throw new TemplateError('unexpected ")"');
      pos.i++;
      break;
    }
    pos.i++;
    if (t.k === 'punct' && t.v === '|') {
      if (cmd.length === 0) throw new TemplateError('missing command before "|"');
      cmds.push(cmd);
      cmd = [];
      continue;
    }
    if (t.k === 'punct' && t.v === '(') {
      cmd.push({ t: 'pipe', p: parsePipeline(toks, pos, true) });
      continue;
    }
    if (t.k === 'field') cmd.push({ t: 'field', name: t.v });
    else if (t.k === 'str') cmd.push({ t: 'lit', v: t.v });
    else if (t.k === 'num') cmd.push({ t: 'lit', v: t.v });
    else if (t.k === 'id') {
      if (t.v === 'true' || t.v === 'false') cmd.push({ t: 'lit', v: t.v === 'true' });
      else {
        if (!FUNCTIONS[t.v]) throw new TemplateError(`function "${t.v}" not defined`);
        cmd.push({ t: 'fn', name: t.v });
      }
    }
  }
  if (cmd.length === 0) throw new TemplateError('empty command');
  cmds.push(cmd);
  return cmds;
}

function pipelineOf(body: string): Pipeline {
  const toks = tokenize(body);
  const pos = { i: 0 };
  const p = parsePipeline(toks, pos, false);
  if (pos.i < toks.length) throw new TemplateError('unexpected text after pipeline');
  return p;
}

function parseNodes(
  parts: (string | Action)[],
  pos: { i: number },
  stopAt: Set<string>,
): { nodes: Node[]; stop?: string } {
  const nodes: Node[] = [];
  while (pos.i < parts.length) {
    const p = parts[pos.i++]!;
    if (typeof p === 'string') {
      nodes.push({ t: 'text', s: p });
      continue;
    }
    const body = p.body;
    if (body.startsWith('/*')) {
      if (!body.endsWith('*/')) throw new TemplateError('unclosed comment');
      continue;
    }
    const word = /^[a-z]+/.exec(body)?.[0] ?? '';
    if (word === 'end' || word === 'else') {
      if (!stopAt.has(word)) throw new TemplateError(`unexpected {{${body}}}`);
      return { nodes, stop: body };
    }
    if (word === 'if') {
      const branches: { cond: Pipeline; body: Node[] }[] = [];
      let cond = pipelineOf(body.slice(2));
      let otherwise: Node[] = [];
      for (;;) {
        const r = parseNodes(parts, pos, new Set(['end', 'else']));
        if (r.stop === undefined) throw new TemplateError('missing {{end}} for {{if}}');
        branches.push({ cond, body: r.nodes });
        if (r.stop === 'end') break;
        const rest = r.stop.slice(4).trim();
        if (rest.startsWith('if ')) {
          cond = pipelineOf(rest.slice(3));
          continue;
        }
        if (rest !== '') throw new TemplateError(`unexpected {{${r.stop}}}`);
        const tail = parseNodes(parts, pos, new Set(['end']));
        if (tail.stop !== 'end') throw new TemplateError('missing {{end}} for {{else}}');
        otherwise = tail.nodes;
        break;
      }
      nodes.push({ t: 'if', branches, otherwise });
      continue;
    }
    if (word === 'range' || word === 'with' || word === 'define' || word === 'template' || word === 'block') {
      throw new TemplateError(`{{${word}}} is not supported`);
    }
    nodes.push({ t: 'out', p: pipelineOf(body) });
  }
  return { nodes };
}

const cache = new Map<string, Template>();

export function compileTemplate(src: string): Template {
  const hit = cache.get(src);
  if (hit) return hit;
  const parts = splitTemplate(src);
  const { nodes, stop } = parseNodes(parts, { i: 0 }, new Set());
  if (stop) throw new TemplateError(`unexpected {{${stop}}}`);
  const labels = new Set<string>();
  const visit = (ns: readonly Node[]): void => {
    for (const n of ns) {
      if (n.t === 'out') visitPipe(n.p);
      else if (n.t === 'if') {
        for (const b of n.branches) {
          visitPipe(b.cond);
          visit(b.body);
        }
        visit(n.otherwise);
      }
    }
  };
  const visitPipe = (p: Pipeline): void => {
    for (const c of p)
      for (const o of c)
        if (o.t === 'field') labels.add(o.name);
        else if (o.t === 'pipe') visitPipe(o.p);
  };
  visit(nodes);
  const constant = nodes.every((n) => n.t === 'text');
  const text = constant ? nodes.map((n) => (n.t === 'text' ? n.s : '')).join('') : '';
  const t: Template = {
    labels: [...labels],
    constant,
    render: constant ? () => text : (ctx) => renderNodes(nodes, ctx),
  };
  if (cache.size > 1000) cache.clear();
  cache.set(src, t);
  return t;
}

// ------------------------------------------------------------------ evaluation

function renderNodes(nodes: readonly Node[], ctx: TemplateContext): string {
  let out = '';
  for (const n of nodes) {
    if (n.t === 'text') out += n.s;
    else if (n.t === 'out') out += toText(evalPipeline(n.p, ctx));
    else {
      const branch = n.branches.find((b) => truthy(evalPipeline(b.cond, ctx)));
      out += renderNodes(branch ? branch.body : n.otherwise, ctx);
    }
  }
  return out;
}

function evalPipeline(p: Pipeline, ctx: TemplateContext): Value {
  let prev: Value | undefined;
  for (const cmd of p) prev = evalCommand(cmd, ctx, prev);
  return prev ?? '';
}

function evalOperand(o: Operand, ctx: TemplateContext): Value {
  switch (o.t) {
    case 'field':
      return ctx.label(o.name) ?? '';
    case 'lit':
      return o.v;
    case 'pipe':
      return evalPipeline(o.p, ctx);
    case 'fn':
      return callFunction(o.name, [], ctx);
  }
}

function evalCommand(cmd: Command, ctx: TemplateContext, piped: Value | undefined): Value {
  const head = cmd[0]!;
  if (head.t === 'fn') {
    const args = cmd.slice(1).map((o) => evalOperand(o, ctx));
    if (piped !== undefined) args.push(piped);
    return callFunction(head.name, args, ctx);
  }
  if (cmd.length > 1 || piped !== undefined)
    throw new TemplateError(`can't give arguments to a non-function`);
  return evalOperand(head, ctx);
}

function toText(v: Value): string {
  if (v instanceof Date) return goTimeString(v);
  if (typeof v === 'number') return formatNumber(v);
  return String(v);
}

function formatNumber(n: number): string {
  if (Number.isInteger(n)) return String(n);
  return String(n);
}

function goTimeString(d: Date): string {
  // Go prints time.Time as "2006-01-02 15:04:05.999999999 +0000 UTC".
  const iso = d.toISOString();
  const frac = iso.slice(20, 23).replace(/0+$/, '');
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac ? '.' + frac : ''} +0000 UTC`;
}

function truthy(v: Value): boolean {
  if (typeof v === 'string') return v !== '';
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'boolean') return v;
  return true;
}

function str(v: Value | undefined): string {
  return v === undefined ? '' : toText(v);
}

function num(v: Value | undefined): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Date) return v.getTime() / 1000;
  const n = Number(String(v ?? '').trim());
  return Number.isNaN(n) ? 0 : n;
}

function toInt(v: Value | undefined): number {
  return Math.trunc(num(v));
}

function compare(a: Value | undefined, b: Value | undefined): number {
  if (typeof a === 'number' || typeof b === 'number') return num(a) - num(b);
  const sa = str(a);
  const sb = str(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function cutset(s: string, set: string, left: boolean, right: boolean): string {
  let start = 0;
  let end = s.length;
  if (left) while (start < end && set.includes(s[start]!)) start++;
  if (right) while (end > start && set.includes(s[end - 1]!)) end--;
  return s.slice(start, end);
}

function sprintf(format: string, args: Value[]): string {
  let i = 0;
  return format.replace(
    /%([-+ 0#]*)(\d+)?(?:\.(\d+))?([sdvqfxXteg%])/g,
    (_m, flags: string, width: string | undefined, prec: string | undefined, verb: string) => {
      if (verb === '%') return '%';
      const a = args[i++];
      let out: string;
      switch (verb) {
        case 'd':
          out = String(toInt(a));
          break;
        case 'f':
          out = num(a).toFixed(prec !== undefined ? Number(prec) : 6);
          break;
        case 'e':
          out = num(a).toExponential(prec !== undefined ? Number(prec) : 6);
          break;
        case 'g':
          out = prec !== undefined ? String(Number(num(a).toPrecision(Number(prec)))) : String(num(a));
          break;
        case 'x':
          out = typeof a === 'number' ? Math.trunc(a).toString(16) : Buffer.from(str(a)).toString('hex');
          break;
        case 'X':
          out = (
            typeof a === 'number' ? Math.trunc(a).toString(16) : Buffer.from(str(a)).toString('hex')
          ).toUpperCase();
          break;
        case 'q':
          out = JSON.stringify(str(a));
          break;
        case 't':
          out = String(truthy(a ?? ''));
          break;
        default:
          out = str(a);
          if (prec !== undefined && verb === 's') out = out.slice(0, Number(prec));
      }
      if (width !== undefined) {
        const w = Number(width);
        if (out.length < w)
          out = flags.includes('-')
            ? out.padEnd(w)
            : out.padStart(w, flags.includes('0') && verb !== 's' ? '0' : ' ');
      }
      return out;
    },
  );
}

type Fn = (args: Value[], ctx: TemplateContext) => Value;

function arity(name: string, args: Value[], n: number): void {
  if (args.length !== n)
    throw new TemplateError(`wrong number of args for ${name}: want ${n} got ${args.length}`);
}

const FUNCTIONS: Record<string, Fn> = {
  __line__: (_a, ctx) => ctx.line,
  __timestamp__: (_a, ctx) => new Date(ctx.ms),
  ToLower: (a) => str(a[0]).toLowerCase(),
  ToUpper: (a) => str(a[0]).toUpperCase(),
  lower: (a) => str(a[0]).toLowerCase(),
  upper: (a) => str(a[0]).toUpperCase(),
  title: (a) =>
    str(a[0]).replace(/(^|[^\p{L}\p{N}'])(\p{L})/gu, (_m, p: string, c: string) => p + c.toUpperCase()),
  // Go: strings.Replace(s, old, new, n)
  Replace: (a) => {
    arity('Replace', a, 4);
    const n = toInt(a[3]);
    const s = str(a[0]);
    const from = str(a[1]);
    const to = str(a[2]);
    if (n < 0) return s.split(from).join(to);
    let out = s;
    let idx = 0;
    for (let k = 0; k < n; k++) {
      const at = out.indexOf(from, idx);
      if (at < 0) break;
      out = out.slice(0, at) + to + out.slice(at + from.length);
      idx = at + to.length;
    }
    return out;
  },
  // sprig: replace old new src
  replace: (a) => {
    arity('replace', a, 3);
    return str(a[2]).split(str(a[0])).join(str(a[1]));
  },
  Trim: (a) => cutset(str(a[0]), str(a[1]), true, true),
  TrimLeft: (a) => cutset(str(a[0]), str(a[1]), true, false),
  TrimRight: (a) => cutset(str(a[0]), str(a[1]), false, true),
  TrimSpace: (a) => str(a[0]).trim(),
  TrimPrefix: (a) => {
    const s = str(a[0]);
    const p = str(a[1]);
    return s.startsWith(p) ? s.slice(p.length) : s;
  },
  TrimSuffix: (a) => {
    const s = str(a[0]);
    const p = str(a[1]);
    return p !== '' && s.endsWith(p) ? s.slice(0, -p.length) : s;
  },
  trim: (a) => str(a[0]).trim(),
  trimAll: (a) => cutset(str(a[1]), str(a[0]), true, true),
  trimPrefix: (a) => {
    const s = str(a[1]);
    const p = str(a[0]);
    return s.startsWith(p) ? s.slice(p.length) : s;
  },
  trimSuffix: (a) => {
    const s = str(a[1]);
    const p = str(a[0]);
    return p !== '' && s.endsWith(p) ? s.slice(0, -p.length) : s;
  },
  contains: (a) => str(a[1]).includes(str(a[0])),
  hasPrefix: (a) => str(a[1]).startsWith(str(a[0])),
  hasSuffix: (a) => str(a[1]).endsWith(str(a[0])),
  repeat: (a) => str(a[1]).repeat(Math.max(0, toInt(a[0]))),
  substr: (a) => {
    const s = str(a[2]);
    const start = Math.max(0, toInt(a[0]));
    const end = toInt(a[1]);
    return end < 0 || end > s.length ? s.slice(start) : s.slice(start, end);
  },
  trunc: (a) => {
    const n = toInt(a[0]);
    const s = str(a[1]);
    return n >= 0 ? s.slice(0, n) : s.slice(Math.max(0, s.length + n));
  },
  indent: (a) => {
    const pad = ' '.repeat(Math.max(0, toInt(a[0])));
    return pad + str(a[1]).replace(/\n/g, '\n' + pad);
  },
  nindent: (a) => {
    const pad = ' '.repeat(Math.max(0, toInt(a[0])));
    return '\n' + pad + str(a[1]).replace(/\n/g, '\n' + pad);
  },
  regexReplaceAll: (a) => {
    arity('regexReplaceAll', a, 3);
    const re = compileGoRegex(str(a[0]));
    // Go's ${1} / $1 / ${name} expansion maps onto JavaScript's $1 / $<name>.
    const repl = str(a[2]).replace(/\$\{(\w+)\}/g, (_m, n: string) =>
      /^\d+$/.test(n) ? `$${n}` : `$<${n}>`,
    );
    return str(a[1]).replace(new RegExp(re.source, re.flags + 'g'), repl);
  },
  regexReplaceAllLiteral: (a) => {
    arity('regexReplaceAllLiteral', a, 3);
    const re = compileGoRegex(str(a[0]));
    const repl = str(a[2]);
    return str(a[1]).replace(new RegExp(re.source, re.flags + 'g'), () => repl);
  },
  default: (a) => {
    const v = a[1];
    return v === undefined || !truthy(v) ? (a[0] ?? '') : v;
  },
  count: (a) => {
    const re = compileGoRegex(str(a[0]));
    return (str(a[1]).match(new RegExp(re.source, re.flags + 'g')) ?? []).length;
  },
  len: (a) => str(a[0]).length,
  printf: (a) => sprintf(str(a[0]), a.slice(1)),
  urlencode: (a) => encodeURIComponent(str(a[0])),
  urldecode: (a) => {
    try {
      return decodeURIComponent(str(a[0]).replace(/\+/g, ' '));
    } catch {
      return str(a[0]);
    }
  },
  b64enc: (a) => Buffer.from(str(a[0])).toString('base64'),
  b64dec: (a) => Buffer.from(str(a[0]), 'base64').toString('utf8'),
  int: (a) => toInt(a[0]),
  float64: (a) => num(a[0]),
  add: (a) => a.reduce<number>((s, v) => s + toInt(v), 0),
  sub: (a) => toInt(a[0]) - toInt(a[1]),
  mul: (a) => a.reduce<number>((s, v) => s * toInt(v), 1),
  div: (a) => (toInt(a[1]) === 0 ? 0 : Math.trunc(toInt(a[0]) / toInt(a[1]))),
  mod: (a) => (toInt(a[1]) === 0 ? 0 : toInt(a[0]) % toInt(a[1])),
  addf: (a) => a.reduce<number>((s, v) => s + num(v), 0),
  subf: (a) => a.slice(1).reduce<number>((s, v) => s - num(v), num(a[0])),
  mulf: (a) => a.reduce<number>((s, v) => s * num(v), 1),
  divf: (a) => a.slice(1).reduce<number>((s, v) => s / num(v), num(a[0])),
  ceil: (a) => Math.ceil(num(a[0])),
  floor: (a) => Math.floor(num(a[0])),
  round: (a) => {
    const p = a.length > 1 ? toInt(a[1]) : 0;
    const f = 10 ** p;
    return Math.round(num(a[0]) * f) / f;
  },
  max: (a) => Math.max(...a.map(toInt)),
  min: (a) => Math.min(...a.map(toInt)),
  alignLeft: (a) => {
    const n = toInt(a[0]);
    const s = str(a[1]);
    return s.length >= n ? s.slice(0, n) : s.padEnd(n);
  },
  alignRight: (a) => {
    const n = toInt(a[0]);
    const s = str(a[1]);
    return s.length >= n ? s.slice(s.length - n) : s.padStart(n);
  },
  unixEpoch: (a) => Math.floor(dateOf(a[0]).getTime() / 1000),
  unixEpochMillis: (a) => dateOf(a[0]).getTime(),
  unixEpochNanos: (a, ctx) => (a[0] === undefined ? ctx.ms * 1e6 + ctx.ns : dateOf(a[0]).getTime() * 1e6),
  unixToTime: (a) => {
    const s = str(a[0]);
    const n = Number(s);
    if (s.length <= 10) return new Date(n * 1000);
    if (s.length <= 13) return new Date(n);
    if (s.length <= 16) return new Date(n / 1000);
    return new Date(n / 1e6);
  },
  now: () => new Date(),
  date: (a) => goFormatDate(str(a[0]), dateOf(a[1])),
  eq: (a) => a.slice(1).some((b) => compare(a[0], b) === 0),
  ne: (a) => compare(a[0], a[1]) !== 0,
  lt: (a) => compare(a[0], a[1]) < 0,
  le: (a) => compare(a[0], a[1]) <= 0,
  gt: (a) => compare(a[0], a[1]) > 0,
  ge: (a) => compare(a[0], a[1]) >= 0,
  and: (a) => {
    for (const v of a) if (!truthy(v)) return v;
    return a.at(-1) ?? '';
  },
  or: (a) => {
    for (const v of a) if (truthy(v)) return v;
    return a.at(-1) ?? '';
  },
  not: (a) => !truthy(a[0] ?? ''),
};

function callFunction(name: string, args: Value[], ctx: TemplateContext): Value {
  const fn = FUNCTIONS[name];
  if (!fn) throw new TemplateError(`function "${name}" not defined`);
  return fn(args, ctx);
}

function dateOf(v: Value | undefined): Date {
  if (v instanceof Date) return v;
  if (typeof v === 'number') return new Date(v * 1000);
  const d = new Date(str(v));
  return Number.isNaN(d.getTime()) ? new Date(0) : d;
}

/** Go reference-time layouts ("2006-01-02 15:04:05") for the `date` function, in UTC. */
function goFormatDate(layout: string, d: Date): string {
  const p2 = (n: number) => String(n).padStart(2, '0');
  const months = [
    'January',
    'February',
    'March',
    'April',
    'May',
    'June',
    'July',
    'August',
    'September',
    'October',
    'November',
    'December',
  ];
  const days = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
  const tokens: [string, () => string][] = [
    ['2006', () => String(d.getUTCFullYear())],
    ['January', () => months[d.getUTCMonth()]!],
    ['Jan', () => months[d.getUTCMonth()]!.slice(0, 3)],
    ['Monday', () => days[d.getUTCDay()]!],
    ['Mon', () => days[d.getUTCDay()]!.slice(0, 3)],
    ['MST', () => 'UTC'],
    ['01', () => p2(d.getUTCMonth() + 1)],
    ['02', () => p2(d.getUTCDate())],
    ['15', () => p2(d.getUTCHours())],
    ['03', () => p2(((d.getUTCHours() + 11) % 12) + 1)],
    ['04', () => p2(d.getUTCMinutes())],
    ['05', () => p2(d.getUTCSeconds())],
    ['06', () => p2(d.getUTCFullYear() % 100)],
    ['.000', () => '.' + String(d.getUTCMilliseconds()).padStart(3, '0')],
    ['PM', () => (d.getUTCHours() >= 12 ? 'PM' : 'AM')],
    ['-0700', () => '+0000'],
    ['Z07:00', () => 'Z'],
  ];
  let out = '';
  let i = 0;
  outer: while (i < layout.length) {
    for (const [tok, f] of tokens) {
      if (layout.startsWith(tok, i)) {
        out += f();
        i += tok.length;
        continue outer;
      }
    }
    out += layout[i];
    i++;
  }
  return out;
}

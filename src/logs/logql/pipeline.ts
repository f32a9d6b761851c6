import type { Labels } from '../../model/labels.ts';
import { compileMatcher } from '../../model/matchers.ts';
import type { Block } from '../store/types.ts';
import type { CompareOp, LabelFilterExpr, LineFilterStage, Stage } from './ast.ts';
import { ERROR_LABEL, LabelsBuilder, type BaseLabels } from './labels-builder.ts';
import {
  compileIpMatcher,
  compilePattern,
  compilePatternFilter,
  decolorize,
  jsonExtractor,
  LABEL_FILTER_ERR,
  lineHasIp,
  logfmtParser,
  parseJsonLine,
  TEMPLATE_FORMAT_ERR,
  unpackLine,
} from './parsers.ts';
import { compileGoRegex } from './regex.ts';
import { compileTemplate } from './template.ts';
import { parseBytes, parseGoDuration, parseGoFloat } from './units.ts';

/**
 * A compiled LogQL pipeline. Leading `|=` / `!=` literal filters run on whole decompressed blocks
 * with Buffer.indexOf (no per-line strings); the remaining stages run per entry on strings.
 */
export interface EntryState {
  line: string;
  lineChanged: boolean;
  ms: number;
  ns: number;
  readonly labels: LabelsBuilder;
}

type StageFn = (e: EntryState) => boolean;

export interface CompiledPipeline {
  /** Entries of a block that pass the leading literal filters (time-ordered indices), or null for all. */
  prefilter(block: Block): Uint8Array | null;
  /** True when stages other than the block-level filters exist (the line must be decoded). */
  readonly hasStages: boolean;
  /** Runs the per-entry stages; false drops the entry. */
  process(e: EntryState): boolean;
  /** True if any stage can change labels (otherwise output labels are the stream's + metadata). */
  readonly changesLabels: boolean;
  /** The parser hints it was compiled with. */
  readonly only: ReadonlySet<string> | undefined;
}

// ------------------------------------------------------------------ block-level literal filters

/** Marks the entries of a block whose line contains `needle` (bytes). */
export function markContains(block: Block, needle: Buffer, out: Uint8Array): void {
  const n = block.count;
  if (n === 0) return;
  if (needle.length === 0) {
    out.fill(1);
    return;
  }
  const end = block.linesEnd;
  const hay = block.lines.subarray(0, end);
  // Most blocks do not hold a rare needle at all: find out before touching the line offsets
  // (for chunks, that avoids decoding the timestamp and length columns).
  let pos = hay.indexOf(needle);
  if (pos < 0) return;
  const { starts } = block;
  let k = 0;
  while (pos < end) {
    const at = hay.indexOf(needle, pos);
    if (at < 0) break;
    // Advance to the entry holding the match start (matches arrive in increasing order).
    while (k < n - 1 && starts[k + 1]! <= at) k++;
    const lineEnd = starts[k + 1]!;
    if (at + needle.length <= lineEnd) out[k] = 1;
    // Either way nothing further in this line can match a not-yet-found occurrence better:
    // a later start in the same line would end past the line end too, if this one did.
    if (k + 1 >= n) break;
    pos = starts[k + 1]!;
    k++;
  }
}

function literalFilterMask(stage: LineFilterStage): ((block: Block) => Uint8Array) | null {
  if ((stage.op !== '|=' && stage.op !== '!=') || stage.terms.some((t) => t.ip)) return null;
  const needles = stage.terms.map((t) => Buffer.from(t.value, 'utf8'));
  const negate = stage.op === '!=';
  return (block) => {
    const mark = new Uint8Array(block.count);
    for (const needle of needles) markContains(block, needle, mark);
    if (negate) for (let i = 0; i < mark.length; i++) mark[i] = mark[i] ? 0 : 1;
    return mark;
  };
}

// ------------------------------------------------------------------ per-entry stages

function lineFilterFn(stage: LineFilterStage): (line: string) => boolean {
  let tests: ((line: string) => boolean)[];
  switch (stage.op) {
    case '|=':
    case '!=':
      tests = stage.terms.map((t) => {
        if (t.ip) {
          const m = compileIpMatcher(t.value);
          return (line: string) => lineHasIp(line, m);
        }
        return (line: string) => line.includes(t.value);
      });
      break;
    case '|~':
    case '!~':
      tests = stage.terms.map((t) => {
        const re = compileGoRegex(t.value);
        return (line: string) => re.test(line);
      });
      break;
    case '|>':
    case '!>':
      tests = stage.terms.map((t) => compilePatternFilter(t.value));
      break;
  }
  const negate = stage.op === '!=' || stage.op === '!~' || stage.op === '!>';
  const any = tests.length === 1 ? tests[0]! : (line: string) => tests.some((t) => t(line));
  return negate ? (line) => !any(line) : any;
}

function compare(op: CompareOp, a: number, b: number): boolean {
  switch (op) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    case '<':
      return a < b;
    case '<=':
      return a <= b;
  }
}

/** Label filters with Loki's semantics: a missing label fails numeric/duration/bytes tests; an unparsable one sets LabelFilterErr and keeps the line. */
export function compileLabelFilter(f: LabelFilterExpr): (lbs: LabelsBuilder) => boolean {
  switch (f.kind) {
    case 'and': {
      const l = compileLabelFilter(f.left);
      const r = compileLabelFilter(f.right);
      return (lbs) => {
        const a = l(lbs);
        const b = r(lbs);
        return a && b;
      };
    }
    case 'or': {
      const l = compileLabelFilter(f.left);
      const r = compileLabelFilter(f.right);
      return (lbs) => l(lbs) || r(lbs);
    }
    case 'matcher': {
      const test = compileMatcher(f.matcher);
      const name = f.matcher.name;
      return (lbs) => test(lbs.get(name) ?? '');
    }
    case 'number':
    case 'duration':
    case 'bytes': {
      const { name, op } = f;
      const want = f.kind === 'number' ? f.value : f.kind === 'duration' ? f.seconds : f.bytes;
      const convert =
        f.kind === 'number'
          ? (v: string) => parseGoFloat(v)
          : f.kind === 'duration'
            ? (v: string) => parseGoDuration(v)
            : (v: string) => parseBytes(v);
      const what = f.kind === 'number' ? 'a number' : f.kind === 'duration' ? 'a duration' : 'a byte size';
      return (lbs) => {
        const raw = lbs.get(name);
        if (raw === undefined) return false;
        const v = convert(raw);
        if (v === undefined) {
          lbs.setError(LABEL_FILTER_ERR, `${JSON.stringify(raw)} is not ${what}`);
          return true;
        }
        return compare(op, v, want);
      };
    }
    case 'ip': {
      const match = compileIpMatcher(f.pattern);
      const name = f.name;
      return (lbs) => {
        const v = lbs.get(name);
        if (v === undefined) return false;
        return f.negate ? !match(v) : match(v);
      };
    }
  }
}

function stageFn(stage: Stage, only: ReadonlySet<string> | undefined): StageFn {
  switch (stage.kind) {
    case 'lineFilter': {
      const test = lineFilterFn(stage);
      return (e) => test(e.line);
    }
    case 'parser':
      switch (stage.parser) {
        case 'json': {
          if (stage.extractions?.length) {
            const extract = jsonExtractor(stage.extractions);
            return (e) => {
              extract(e.line, e.labels);
              return true;
            };
          }
          return (e) => {
            parseJsonLine(e.line, e.labels);
            return true;
          };
        }
        case 'logfmt': {
          const parse = logfmtParser({
            strict: stage.strict ?? false,
            keepEmpty: stage.keepEmpty ?? false,
            extractions: stage.extractions,
          });
          return (e) => {
            parse(e.line, e.labels);
            return true;
          };
        }
        case 'regexp': {
          const re = compileGoRegex(stage.param ?? '');
          return (e) => {
            const m = re.exec(e.line);
            if (m?.groups) {
              for (const [name, value] of Object.entries(m.groups)) {
                e.labels.setParsed(e.labels.baseHas(name) ? `${name}_extracted` : name, value ?? '');
              }
            }
            return true;
          };
        }
        case 'pattern': {
          const match = compilePattern(stage.param ?? '', only);
          return (e) => {
            const caps = match(e.line);
            if (caps)
              for (const [name, value] of caps)
                e.labels.set(e.labels.baseHas(name) ? `${name}_extracted` : name, value);
            return true;
          };
        }
        case 'unpack':
          return (e) => {
            const next = unpackLine(e.line, e.labels);
            if (next !== e.line) {
              e.line = next;
              e.lineChanged = true;
            }
            return true;
          };
      }
      break;
    case 'labelFilter': {
      const test = compileLabelFilter(stage.filter);
      return (e) => test(e.labels);
    }
    case 'lineFormat': {
      const t = compileTemplate(stage.template);
      return (e) => {
        try {
          e.line = t.render(templateContext(e));
          e.lineChanged = true;
        } catch (err) {
          e.labels.setError(TEMPLATE_FORMAT_ERR, (err as Error).message);
        }
        return true;
      };
    }
    case 'labelFormat': {
      const ops = stage.ops.map((o) => ({
        ...o,
        t: o.template !== undefined ? compileTemplate(o.template) : undefined,
      }));
      return (e) => {
        // Every op sees the labels as they were before this stage.
        const results: [string, string | undefined, string | undefined][] = [];
        const ctx = templateContext(e);
        for (const o of ops) {
          if (o.t) {
            try {
              results.push([o.dst, o.t.render(ctx), undefined]);
            } catch (err) {
              e.labels.setError(TEMPLATE_FORMAT_ERR, (err as Error).message);
            }
          } else results.push([o.dst, e.labels.get(o.src!) ?? '', o.src]);
        }
        for (const [, , src] of results) if (src !== undefined) e.labels.delete(src);
        for (const [dst, value] of results) e.labels.set(dst, value ?? '');
        return true;
      };
    }
    case 'drop': {
      const items = stage.items.map((i) => ({
        name: i.name,
        test: i.matcher ? compileMatcher(i.matcher) : undefined,
      }));
      return (e) => {
        for (const i of items) {
          if (!i.test) e.labels.delete(i.name);
          else {
            const v = e.labels.get(i.name);
            if (v !== undefined && i.test(v)) e.labels.delete(i.name);
          }
        }
        return true;
      };
    }
    case 'keep': {
      const items = stage.items.map((i) => ({
        name: i.name,
        test: i.matcher ? compileMatcher(i.matcher) : undefined,
      }));
      const byName = new Map(items.map((i) => [i.name, i]));
      return (e) => {
        for (const name of e.labels.names()) {
          const i = byName.get(name);
          if (!i) e.labels.delete(name);
          else if (i.test && !i.test(e.labels.get(name) ?? '')) e.labels.delete(name);
        }
        return true;
      };
    }
    case 'decolorize':
      return (e) => {
        const next = decolorize(e.line);
        if (next !== e.line) {
          e.line = next;
          e.lineChanged = true;
        }
        return true;
      };
  }
  throw new Error(`unsupported stage ${(stage as Stage).kind}`);
}

function templateContext(e: EntryState) {
  return {
    label: (name: string) => e.labels.get(name),
    line: e.line,
    ms: e.ms,
    ns: e.ns,
  };
}

/**
 * Compiles a pipeline; `only` (parser hints) names the labels the caller needs, when it knows:
 * parsers then skip every other label.
 */
export function compilePipeline(stages: readonly Stage[], only?: ReadonlySet<string>): CompiledPipeline {
  // Leading literal filters move to the block level.
  const masks: ((block: Block) => Uint8Array)[] = [];
  let k = 0;
  for (; k < stages.length; k++) {
    const s = stages[k]!;
    if (s.kind !== 'lineFilter') break;
    const m = literalFilterMask(s);
    if (!m) break;
    masks.push(m);
  }
  const rest = stages.slice(k).map((s) => stageFn(s, only));
  const changesLabels = stages.slice(k).some((s) => s.kind !== 'lineFilter');
  return {
    only,
    prefilter(block) {
      if (masks.length === 0) return null;
      const mark = masks[0]!(block);
      for (let m = 1; m < masks.length; m++) {
        const next = masks[m]!(block);
        for (let i = 0; i < mark.length; i++) mark[i] = mark[i]! & next[i]!;
      }
      return mark;
    },
    hasStages: rest.length > 0,
    changesLabels,
    process(e) {
      for (const fn of rest) if (!fn(e)) return false;
      return true;
    },
  };
}

/** Adds structured metadata to an entry's labels (metadata is filterable like labels, as in Loki 3). */
export function applyMetadata(lbs: LabelsBuilder, meta: Labels | undefined): void {
  if (meta) for (const m of meta) lbs.set(m.name, m.value);
}

export function newEntryState(base: BaseLabels, only?: ReadonlySet<string>): EntryState {
  const labels = new LabelsBuilder();
  labels.only = only;
  labels.reset(base);
  return { line: '', lineChanged: false, ms: 0, ns: 0, labels };
}

export { ERROR_LABEL };

import type { Labels } from './labels.ts';

export type MatchType = '=' | '!=' | '=~' | '!~';

/** A label matcher as in PromQL / LogQL stream selectors. */
export interface Matcher {
  readonly name: string;
  readonly type: MatchType;
  readonly value: string;
}

export type ValueTest = (value: string) => boolean;

const regexCache = new Map<string, RegExp>();

/** Prometheus regex matchers are fully anchored (RE2 semantics, `^(?:re)$`). */
export function anchoredRegex(source: string): RegExp {
  let re = regexCache.get(source);
  if (!re) {
    re = new RegExp(`^(?:${source})$`, 's');
    if (regexCache.size > 10_000) regexCache.clear();
    regexCache.set(source, re);
  }
  return re;
}

/** Compiles the test applied to a label's value; a missing label has the value "". */
export function compileMatcher(m: Matcher): ValueTest {
  switch (m.type) {
    case '=':
      return (v) => v === m.value;
    case '!=':
      return (v) => v !== m.value;
    case '=~': {
      const re = anchoredRegex(m.value);
      return (v) => re.test(v);
    }
    case '!~': {
      const re = anchoredRegex(m.value);
      return (v) => !re.test(v);
    }
  }
}

/** True when every matcher accepts the label set. */
export function matchesAll(labels: Labels, matchers: readonly Matcher[]): boolean {
  for (const m of matchers) {
    let value = '';
    for (const l of labels) {
      if (l.name === m.name) {
        value = l.value;
        break;
      }
    }
    if (!compileMatcher(m)(value)) return false;
  }
  return true;
}

/** True when the matcher accepts the empty string, i.e. also selects series without the label. */
export function matchesEmpty(m: Matcher): boolean {
  return compileMatcher(m)('');
}

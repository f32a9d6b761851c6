/**
 * Prometheus uses Go's RE2 regular expressions; label_replace() regexes are compiled here into
 * JavaScript ones. The common RE2 spellings JavaScript lacks are translated: named groups
 * `(?P<name>…)`, leading flag groups such as `(?i)`, and `\z`.
 */
export function compileGoRegex(source: string, anchored: boolean): RegExp {
  let flags = '';
  let body = source;
  const flagGroup = /^\(\?([imsU]+)\)/.exec(body);
  if (flagGroup) {
    for (const f of flagGroup[1]!) {
      if (f === 'i' && !flags.includes('i')) flags += 'i';
      if (f === 's' && !flags.includes('s')) flags += 's';
      if (f === 'm' && !flags.includes('m')) flags += 'm';
    }
    body = body.slice(flagGroup[0].length);
  }
  body = body.replace(/\(\?P</g, '(?<').replace(/\\z/g, '$');
  return new RegExp(anchored ? `^(?:${body})$` : body, flags);
}

/**
 * Go's regexp.Expand for a template: `$1`, `${1}`, `$name`, `${name}`, `$$`. A name is the longest
 * run of letters, digits and underscores, so `$1x` refers to the group named `1x` (empty).
 */
export function expandTemplate(template: string, match: RegExpExecArray): string {
  let out = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c !== '$') {
      out += c;
      continue;
    }
    const next = template[i + 1];
    if (next === '$') {
      out += '$';
      i++;
      continue;
    }
    let name: string;
    if (next === '{') {
      const close = template.indexOf('}', i + 2);
      const inner = close < 0 ? '' : template.slice(i + 2, close);
      if (close < 0 || !/^\w+$/.test(inner)) {
        out += c;
        continue;
      }
      name = inner;
      i = close;
    } else {
      const m = /^\w+/.exec(template.slice(i + 1));
      if (!m) {
        out += c;
        continue;
      }
      name = m[0];
      i += name.length;
    }
    if (/^\d+$/.test(name)) {
      const g = match[Number(name)];
      if (g !== undefined) out += g;
    } else {
      const g = match.groups?.[name];
      if (g !== undefined) out += g;
    }
  }
  return out;
}

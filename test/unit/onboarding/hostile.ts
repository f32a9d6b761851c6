/**
 * Values chosen to break a naive generator in at least one of the three formats: shell
 * (quotes, command substitution, expansions), YAML (indicators, comments, 1.1 booleans and line
 * breaks), Alloy (string escapes, comment starts), relabel replacements (`$` expansions).
 */
export const HOSTILE_VALUES: readonly string[] = [
  "web'1",
  'a"b',
  'back\\slash\\',
  '$(touch /tmp/irin-pwned)',
  '`touch /tmp/irin-pwned`',
  '${HOME}',
  '$HOME $1 ${1} $$',
  'two\nlines',
  'crlf\r\nend',
  'tab\there',
  'key: value # comment',
  '- [a, {b: c}]',
  '&anchor *alias !!str %tag @at |',
  '> folded',
  'yes',
  'off',
  'null',
  '~',
  '0x1F',
  '1e3',
  ' leading and trailing ',
  "'; rm -rf / #",
  '*/ /* // not a comment',
  '}\nprometheus.scrape "evil" {',
  '\u2028line separator\u2029',
  'nel\u0085c1\u009bdel\u007f',
  'bell\u0007nul-less\u001b[31m',
  'é ü 日本 😀',
  '\\u0041 \\x41 \\101',
  '=',
  '{',
];

/** A base URL whose path keeps characters that are special in shells and YAML (WHATWG keeps them unencoded). */
export const HOSTILE_URL = "https://metrics.example.com/pre'fix/$(id)/a;b&c=d!*,(x)";

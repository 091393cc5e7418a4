/**
 * Redis glob patterns (SCAN MATCH, CONFIG GET): `*`, `?`, `[abc]`, `[^a]`, `[a-z]`, `\x`. Compiled once to a RegExp
 * over latin1 keys.
 */
export function globMatcher(pattern: string): (key: string) => boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[\\s\\S]*';
    else if (c === '?') re += '[\\s\\S]';
    else if (c === '\\' && i + 1 < pattern.length) re += escape(pattern[++i]!);
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close === -1) {
        re += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, close);
      const negate = body.startsWith('^');
      if (negate) body = body.slice(1);
      let cls = '';
      for (let j = 0; j < body.length; j++) {
        const b = body[j]!;
        if (b === '\\' && j + 1 < body.length) cls += escape(body[++j]!);
        else if (b === '-' && j > 0 && j + 1 < body.length) cls += '-';
        else cls += escape(b);
      }
      re += `[${negate ? '^' : ''}${cls}]`;
      i = close;
    } else re += escape(c);
  }
  let rx: RegExp;
  try {
    rx = new RegExp(re + '$');
  } catch {
    rx = new RegExp('^' + escape(pattern) + '$');
  }
  return (key) => rx.test(key);
}

function escape(c: string): string {
  return c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
}

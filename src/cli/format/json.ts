// Go's json.Indent: re-indent raw JSON text, keeping every scalar exactly as the daemon wrote it.

export function indentJson(raw: string, indent = '    ', prefix = ''): string {
  let out = '';
  let depth = 0;
  let i = 0;
  const n = raw.length;
  let needIndent = false; // just opened a container; the next value goes on a new line
  const nl = () => '\n' + prefix + indent.repeat(depth);
  while (i < n) {
    const c = raw[i];
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') { i++; continue; }
    if (needIndent && c !== ']' && c !== '}') {
      out += nl();
      needIndent = false;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < n && raw[j] !== '"') j += raw[j] === '\\' ? 2 : 1;
      out += raw.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (c === '{' || c === '[') {
      out += c;
      depth++;
      needIndent = true;
      i++;
      continue;
    }
    if (c === '}' || c === ']') {
      depth--;
      if (needIndent) needIndent = false; // empty container: {} / []
      else out += nl();
      out += c;
      i++;
      continue;
    }
    if (c === ',') {
      out += ',' + nl();
      i++;
      continue;
    }
    if (c === ':') {
      out += ': ';
      i++;
      continue;
    }
    let j = i;
    while (j < n && !' \t\r\n,:]}'.includes(raw[j])) j++;
    out += raw.slice(i, j);
    i = j;
  }
  return out;
}

// Go's text/tabwriter, as docker uses it for tables: NewWriter(out, minwidth 10, tabwidth 1, padding 3, ' ', 0).
// Cells are tab-terminated; the text after the last tab of a line is not part of any column.

export interface TabwriterOptions {
  minwidth?: number;
  padding?: number;
  padchar?: string;
}

function width(s: string): number {
  return [...s].length;
}

export function tabwrite(text: string, opts: TabwriterOptions = {}): string {
  const minwidth = opts.minwidth ?? 10;
  const padding = opts.padding ?? 3;
  const padchar = opts.padchar ?? ' ';
  const endsWithNewline = text.endsWith('\n');
  const rawLines = (endsWithNewline ? text.slice(0, -1) : text).split('\n');
  const lines: string[][] = rawLines.map((l) => l.split('\t'));
  const out: string[] = [];
  const widths: number[] = [];

  const writeLines = (line0: number, line1: number) => {
    for (let i = line0; i < line1; i++) {
      const cells = lines[i];
      let s = '';
      for (let j = 0; j < cells.length; j++) {
        const c = cells[j];
        s += c;
        if (j < widths.length && j < cells.length - 1) s += padchar.repeat(Math.max(0, widths[j] - width(c)));
      }
      out.push(s);
    }
  };

  const format = (line0: number, line1: number): void => {
    const column = widths.length;
    for (let t = line0; t < line1; t++) {
      if (column >= lines[t].length - 1) continue;
      writeLines(line0, t);
      line0 = t;
      let w = minwidth;
      for (; t < line1; t++) {
        const cells = lines[t];
        if (column >= cells.length - 1) break;
        const cw = width(cells[column]) + padding;
        if (cw > w) w = cw;
      }
      widths.push(w);
      format(line0, t);
      widths.pop();
      line0 = t;
      t--; // the for loop's t++ must not skip line t
    }
    writeLines(line0, line1);
  };

  // Go formats and flushes per "paragraph" only at Flush; one pass over all lines is equivalent.
  formatAll(lines.length);
  function formatAll(n: number) {
    format(0, n);
  }
  return out.join('\n') + (endsWithNewline ? '\n' : '');
}

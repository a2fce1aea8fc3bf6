/** Human-readable output by default, `--json` for scripts. */

export interface Out {
  json: boolean;
  write(text: string): void;
}

export function makeOut(json: boolean, write: (text: string) => void = (t) => process.stdout.write(t)): Out {
  return { json, write };
}

function cell(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (Array.isArray(v)) return v.length === 0 ? '-' : v.map(cell).join(',');
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function table(out: Out, rows: readonly object[], columns: string[]): void {
  if (out.json) return out.write(JSON.stringify(rows, null, 2) + '\n');
  if (rows.length === 0) return out.write('(none)\n');
  const cells = rows.map((r) => columns.map((c) => cell((r as Record<string, unknown>)[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => Math.min(row[i]!.length, 60))));
  const line = (vals: string[]): string => vals.map((v, i) => (v.length > 60 ? v.slice(0, 59) + '…' : v).padEnd(widths[i]!)).join('  ').trimEnd();
  out.write([line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n') + '\n');
}

export function record(out: Out, value: unknown): void {
  if (out.json) return out.write(JSON.stringify(value, null, 2) + '\n');
  const lines: string[] = [];
  const walk = (v: unknown, indent: string): void => {
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      if (x !== null && typeof x === 'object' && !Array.isArray(x)) {
        lines.push(`${indent}${k}:`);
        walk(x, indent + '  ');
      } else if (Array.isArray(x) && x.some((i) => typeof i === 'object' && i !== null)) {
        lines.push(`${indent}${k}:`);
        for (const item of x) lines.push(`${indent}  - ${cell(item)}`);
      } else {
        lines.push(`${indent}${k}: ${cell(x)}`);
      }
    }
  };
  walk(value, '');
  out.write(lines.join('\n') + '\n');
}

export function message(out: Out, text: string, value?: unknown): void {
  if (out.json) return out.write(JSON.stringify(value ?? { message: text }, null, 2) + '\n');
  out.write(text + '\n');
}

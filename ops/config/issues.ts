/** A problem found in a config file: where (JSON path and, when known, line:column) and why. */
export interface ConfigIssue {
  severity: 'error' | 'warning';
  /** Path segments from the document root, e.g. ['subscriptions', 0, 'fields', 2]. */
  path: (string | number)[];
  message: string;
  line?: number;
  col?: number;
}

/** `subscriptions[0].fields[2]`; `(root)` for the document itself. */
export function formatPath(path: (string | number)[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(seg)) out += out ? `.${seg}` : seg;
    else out += `[${JSON.stringify(seg)}]`;
  }
  return out || '(root)';
}

export function formatIssue(file: string, i: ConfigIssue): string {
  const where = i.line ? `${file}:${i.line}:${i.col ?? 1}` : file;
  return `${where}  ${i.severity}  ${formatPath(i.path)}: ${i.message}`;
}

/** A Procfile's processes (`web: gunicorn app:app`), name → command and line. */
export function parseProcfile(text: string): Map<string, { command: string; line: number }> {
  const processes = new Map<string, { command: string; line: number }>();
  text.split("\n").forEach((raw, index) => {
    const match = /^\s*([A-Za-z0-9_-]+)\s*:\s*(.+?)\s*$/.exec(raw);
    if (match?.[1] !== undefined && match[2] !== undefined && !processes.has(match[1])) {
      processes.set(match[1], { command: match[2], line: index + 1 });
    }
  });
  return processes;
}

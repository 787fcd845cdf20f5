/**
 * The V8 heap flags Lambda's Node.js bootstrap derives from the function's memory (a tenth for the young generation,
 * half of that per semi-space, the rest for the old generation), so a function that would run out of memory in
 * Lambda runs out here too, at about the same size.
 */
export function nodeMemoryFlags(memorySizeMb: number): string[] {
  const newSpace = Math.floor(memorySizeMb / 10);
  return [`--max-semi-space-size=${Math.floor(newSpace / 2)}`, `--max-old-space-size=${memorySizeMb - newSpace}`];
}

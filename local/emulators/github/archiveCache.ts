/** How many built archives a repository keeps by default (the least recently served goes first). */
const DEFAULT_CAPACITY = 16;

/**
 * A commit's content never changes, so neither does its archive: each is built once per commit SHA and prefix and
 * served again from here, as codeload serves a generated archive from its cache. `build` answering undefined (no such
 * commit) is not kept.
 */
export function createArchiveCache(capacity = DEFAULT_CAPACITY) {
  const kept = new Map<string, Promise<Buffer | undefined>>();
  return (commitSha: string, prefix: string, build: () => Promise<Buffer | undefined>): Promise<Buffer | undefined> => {
    const key = `${commitSha.toLowerCase()}\0${prefix}`;
    const built = kept.get(key) ?? build();
    kept.delete(key);
    kept.set(key, built);
    if (kept.size > capacity) kept.delete(kept.keys().next().value!);
    void built.then(
      (archive) => archive === undefined && kept.get(key) === built && kept.delete(key),
      () => kept.get(key) === built && kept.delete(key),
    );
    return built;
  };
}

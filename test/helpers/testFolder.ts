import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import test from "ava";

/**
 * One temporary folder for a test file, with a fresh subfolder per use. It is removed when the file's tests end,
 * whether they passed or failed (`after.always`), and when the process exits, as it does after a timeout.
 */
export function useTestFolder(prefix: string): { readonly root: string; subfolder(name?: string): string } {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), `slipway-${prefix}-`)));
  const remove = () => fs.rmSync(root, { recursive: true, force: true });
  process.once("exit", remove);
  test.after.always(remove);
  let count = 0;
  return {
    root,
    subfolder(name = "run") {
      const dir = path.join(root, `${name}-${++count}`);
      fs.mkdirSync(dir);
      return dir;
    },
  };
}

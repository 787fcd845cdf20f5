/**
 * `npm run pretest` (and by hand): builds the stack's function archives the way `pulumi up` does, once per change
 * of their sources, so the tests and `npm start` run exactly that code. Prints where they are.
 *
 *   tsx scripts/archives.ts [--rebuild]
 */
import { ensureFunctionArchives } from "../local/platform/archives/functionArchives";

const args = process.argv.slice(2);
if (args.includes("--help")) {
  console.log("usage: archives [--rebuild]   builds the function archives as `pulumi up` does (cached by sources)");
  process.exit(0);
}
ensureFunctionArchives({ rebuild: args.includes("--rebuild"), onBuild: (message) => console.log(message) }).then(
  (archives) => console.log(`function archives (${archives.manifest.compiledBy}): ${archives.dir}`),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);

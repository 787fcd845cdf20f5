import * as fs from "node:fs";
import * as path from "node:path";

/**
 * A folder standing in for what Lambda's Node.js runtime provides besides the archive: the AWS SDK v3 and what it
 * depends on (resolved through NODE_PATH, as /var/runtime/node_modules is). Built from the project's node_modules by
 * following package.json dependencies from every `@aws-sdk/*` package, so a package the archive forgot is NOT
 * found here unless the SDK itself brings it. Returns `<dir>/node_modules`, the value for NODE_PATH; calling it
 * again on the same `dir` reuses what is there.
 */
export function lambdaRuntimeModules(projectRoot: string, dir: string): string {
  const nodeModules = path.join(projectRoot, "node_modules");
  const target = path.join(dir, "node_modules");
  fs.mkdirSync(target, { recursive: true });
  const seen = new Set<string>();
  const visit = (name: string) => {
    if (seen.has(name)) return;
    const source = path.join(nodeModules, name);
    if (!fs.existsSync(path.join(source, "package.json"))) return;
    seen.add(name);
    const link = path.join(target, name);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    // lstat, not exists: a dangling link left by an earlier run is still in the way of a new one.
    if (!fs.lstatSync(link, { throwIfNoEntry: false })) fs.symlinkSync(source, link, "dir");
    const manifest = JSON.parse(fs.readFileSync(path.join(source, "package.json"), "utf8")) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    for (const dependency of Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies }))
      visit(dependency);
  };
  for (const name of fs.readdirSync(path.join(nodeModules, "@aws-sdk"))) visit(`@aws-sdk/${name}`);
  return target;
}

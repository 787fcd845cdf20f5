import test from "ava";
import { textTable as formatTable } from "../scripts/textTable";

test("bench tables: columns aligned, no line padded past its own last cell", (t) => {
  const packages = Array.from({ length: 40 }, (_, i) => `@octokit/package-${i}`).join(" ");
  const lines = formatTable([
    ["function", "files", "packages"],
    ["slipway-inspector", "12", packages],
    ["slipway-get", "3", "-"],
  ]);
  t.deepEqual(lines.slice(0, 1), ["function           files  packages"]);
  t.is(lines[2], "slipway-get        3      -");
  for (const line of lines) t.false(/\s$/.test(line), JSON.stringify(line));
  t.is(lines[1]!.indexOf(packages), lines[0]!.indexOf("packages"), "the last column starts where its header does");
});

import { functionArchive, archiveSize } from "../test/helpers/lambdaArchives";
import { formatTable } from "./formatTable";
import { findResources } from "../test/helpers/pulumiMocks";
import { loadStack } from "../test/helpers/stack";

/** The inspector's archive must stay under this, unzipped (Pulumi's default packs 18.7 MB for these dependencies). */
const INSPECTOR_BUDGET_BYTES = 2 * 1024 * 1024;

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

/**
 * Builds the stack under Pulumi's mocks and prints every function archive's size as Lambda receives it: unzipped and
 * zipped, with the packed packages. Figures only; the size budget is the inspector's.
 */
export async function runArchiveBench(): Promise<void> {
  const { resources } = await loadStack();
  const rows: string[][] = [["function", "files", "unzipped", "zipped", "packages"]];
  for (const resource of findResources(resources, "aws:lambda/function:Function")) {
    const archive = await functionArchive(resource);
    const size = archiveSize(archive);
    const packages = [...archive.folders.keys()].map((p) => p.replace("node_modules/", ""));
    rows.push([
      resource.name,
      String(size.files),
      kib(size.unzippedBytes),
      kib(size.zippedBytes),
      packages.join(" ") || "-",
    ]);
    if (resource.name === "slipway-inspector") {
      const verdict = size.unzippedBytes <= INSPECTOR_BUDGET_BYTES ? "within" : "OVER";
      console.log(
        `inspector archive: ${kib(size.unzippedBytes)} unzipped, ${kib(size.zippedBytes)} zipped — ${verdict} the ${kib(INSPECTOR_BUDGET_BYTES)} budget`,
      );
    }
  }
  for (const line of formatTable(rows)) console.log(line);
}

import { archiveSize } from "../local/platform/archives/archiveSize";
import { ensureFunctionArchives } from "../local/platform/archives/functionArchives";
import { textTable } from "../scripts/textTable";

/** The inspector's archive must stay under this, unzipped (Pulumi's default packs 18.7 MB for these dependencies). */
const INSPECTOR_BUDGET_BYTES = 2 * 1024 * 1024;

const kib = (bytes: number) => `${(bytes / 1024).toFixed(1)} KiB`;

/**
 * Prints every function archive's size as Lambda receives it, unzipped and zipped: the archives `pulumi up` builds
 * (one bundled file each, the AWS SDK clients included). Figures only; the size budget is the inspector's.
 */
export async function runArchiveBench(): Promise<void> {
  const archives = await ensureFunctionArchives({ onBuild: (message) => console.log(message) });
  const rows: string[][] = [["function", "files", "unzipped", "zipped"]];
  for (const name of Object.keys(archives.manifest.functions).sort()) {
    const size = archiveSize(archives.codeDir(name));
    rows.push([name, String(size.files), kib(size.unzippedBytes), kib(size.zippedBytes)]);
    if (name === "slipway-inspector") {
      const verdict = size.unzippedBytes <= INSPECTOR_BUDGET_BYTES ? "within" : "OVER";
      console.log(
        `inspector archive: ${kib(size.unzippedBytes)} unzipped, ${kib(size.zippedBytes)} zipped — ${verdict} the ${kib(INSPECTOR_BUDGET_BYTES)} budget`,
      );
    }
  }
  for (const line of textTable(rows)) console.log(line);
}

import { runArchiveBench } from "./archives";

/** `npm run bench`: figures, printed; nothing here asserts (tests never time anything). */
async function main(): Promise<void> {
  console.log("== Lambda archives (Pulumi-built, under mocks)");
  await runArchiveBench();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

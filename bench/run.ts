import { runArchiveBench } from "./archives";
import { runDetectionBench } from "./detection";
import { runLifecycleBench } from "./lifecycle";
import { runPipelineBench } from "./pipeline";
import { runDashboardBench } from "./dashboard";

/** Each benchmark by name; `bench/index.ts` runs each in its own process (a Pulumi program runs once per process). */
export const BENCHMARKS: Readonly<Record<string, { title: string; run: () => Promise<void> }>> = {
  archives: { title: "Lambda archives, as Pulumi builds them", run: runArchiveBench },
  detection: {
    title: "Framework detection: Slipway and @vercel/fs-detectors on the corpus; GitHub requests",
    run: runDetectionBench,
  },
  pipeline: { title: "The local platform end to end", run: runPipelineBench },
  lifecycle: {
    title: "After BUILDING: POST → SUCCEEDED, build event → status, the reconciler's cost",
    run: runLifecycleBench,
  },
  dashboard: { title: "The web dashboard: bundle size, first render in Chromium", run: runDashboardBench },
};

if (require.main === module) {
  const name = process.argv[2] ?? "";
  const benchmark = BENCHMARKS[name];
  if (!benchmark) {
    console.error(`unknown benchmark "${name}"; one of ${Object.keys(BENCHMARKS).join(", ")}`);
    process.exit(2);
  }
  benchmark.run().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}

// Prints the slowest tests of an ava run from its output (ava has no report of its own): ava's verbose reporter ends
// a test's line with its duration once it passes a threshold, e.g. "✔ file › title (2.3s)". Tests over the suite's
// budget (15 s a test) are marked. Usage: node .ci/slowest-tests.mjs <ava output file> [count]
import { readFileSync } from "node:fs";
import process from "node:process";
import console from "node:console";

const BUDGET_MS = 15_000;
const [file, count = "15"] = process.argv.slice(2);
if (!file) {
  console.error("usage: node .ci/slowest-tests.mjs <ava output file> [count]");
  process.exit(2);
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000 };
const tests = [];
for (const line of readFileSync(file, "utf8").split("\n")) {
  const match = /^\s*[✔✘]\s+(?:\[\w+\]:\s+)?(.*?)\s+\((\d+(?:\.\d+)?)(ms|s|m)\)\s*$/u.exec(line);
  if (match) tests.push({ title: match[1], ms: Number(match[2]) * UNIT_MS[match[3]] });
}
tests.sort((a, b) => b.ms - a.ms);
const over = tests.filter((test) => test.ms > BUDGET_MS);
console.log(
  `Slowest tests (${tests.length} took long enough for ava to time them; budget ${BUDGET_MS / 1000} s a test):`,
);
for (const test of tests.slice(0, Number(count))) {
  console.log(`${(test.ms / 1000).toFixed(1).padStart(7)} s  ${test.ms > BUDGET_MS ? "OVER " : ""}${test.title}`);
}
console.log(over.length === 0 ? "No test over the budget." : `${over.length} test(s) over the budget.`);

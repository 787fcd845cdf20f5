// `npm run test:slow`: the tests that take minutes (the policy audit's end-to-end scenario), kept out of `npm test`
// so it fits its five minutes; CI runs both. Same settings as package.json's "ava", other files.
import { readFileSync } from "node:fs";
import { URL } from "node:url";

const { ava } = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"));

export default { ...ava, files: ["test/slow/**/*.test.ts"] };

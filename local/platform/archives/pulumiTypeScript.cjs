/* global require, process, module */
/* eslint-disable @typescript-eslint/no-require-imports -- CommonJS on purpose: loaded with `node -r` before any loader */
"use strict";
/*
 * Registers TypeScript exactly as `pulumi up` does before it loads a TypeScript program: the non-ESM branch of
 * @pulumi/pulumi/cmd/run/run.js (v3.248), which Pulumi does not export, so it is repeated here line for line —
 * Pulumi's vendored ts-node 7.0.1 (or the project's ts-node, if one is installed), the project's own `typescript`,
 * the project's tsconfig.json merged over Pulumi's defaults, and type checking unless `noCheck` or
 * PULUMI_NODEJS_TRANSPILE_ONLY says otherwise. Code compiled through this is what Pulumi serializes into functions.
 */
const fs = require("node:fs");
const path = require("node:path");

const pulumiRoot = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
const semver = require(require.resolve("semver", { paths: [pulumiRoot] }));
const tsutils = require("@pulumi/pulumi/tsutils");

const tsConfigPath = process.env.PULUMI_NODEJS_TSCONFIG_PATH ?? "tsconfig.json";
const skipProject = !fs.existsSync(tsConfigPath);
const compilerOptions = tsutils.loadTypeScriptCompilerOptions(tsConfigPath);
const transpileOnlyEnv = process.env.PULUMI_NODEJS_TRANSPILE_ONLY;
const transpileOnly = transpileOnlyEnv ? transpileOnlyEnv === "true" : compilerOptions.noCheck;
const { tsnodeRequire, typescriptRequire } = tsutils.typeScriptRequireStrings();
const ts = require(typescriptRequire);
const tsVersion = semver.parse(ts.version);
const useNodeNext = tsVersion && tsVersion.compare(new semver.SemVer("4.7.0")) >= 0;

require(tsnodeRequire).register({
  compiler: typescriptRequire,
  transpileOnly,
  project: tsConfigPath,
  skipProject,
  compilerOptions: {
    target: "ES2020",
    module: useNodeNext ? "nodenext" : "commonjs",
    moduleResolution: useNodeNext ? "nodenext" : "node",
    sourceMap: "true",
    ...compilerOptions,
  },
});

module.exports = { tsnodeRequire, typescriptVersion: ts.version, transpileOnly: Boolean(transpileOnly) };

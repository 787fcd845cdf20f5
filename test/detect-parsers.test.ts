import test from "ava";
import { dockerBaseImages } from "../runtime/detect/parse/dockerfile";
import { parseGemfile } from "../runtime/detect/parse/gemfile";
import { parseGoMod } from "../runtime/detect/parse/goMod";
import { parseGradleBuild, parseGradleSettings, parseVersionCatalog } from "../runtime/detect/parse/gradle";
import { parseJsonLoose } from "../runtime/detect/parse/json";
import { parsePackageJson } from "../runtime/detect/parse/packageJson";
import { parsePom } from "../runtime/detect/parse/pom";
import { parsePipfile, parsePyproject, parseRequirements } from "../runtime/detect/parse/python";
import { parseCargoToml } from "../runtime/detect/parse/cargoToml";
import { readTomlEntries } from "../runtime/detect/parse/toml";
import { parsePnpmWorkspace } from "../runtime/detect/parse/workspaceConfig";
import { readToolVersions, readPlainVersion, readRustToolchain } from "../runtime/detect/parse/versionFiles";
import { matchesGlob } from "../runtime/detect/glob";

test("JSON with comments and trailing commas still parses; anything else is undefined", (t) => {
  t.deepEqual(parseJsonLoose('{\n  // the app\n  "a": [1, 2,], /* x */\n  "url": "http://x//y",\n}'), {
    a: [1, 2],
    url: "http://x//y",
  });
  t.is(parseJsonLoose("{ not json"), undefined);
  t.is(parseJsonLoose(""), undefined);
});

test("package.json: dependencies with lines, not peers; workspaces in both forms; engines; publishing", (t) => {
  const text = [
    "{",
    '  "name": "web",',
    '  "engines": { "node": ">=20" },',
    '  "workspaces": { "packages": ["apps/*"] },',
    '  "scripts": { "start": "next start", "release": "changeset publish" },',
    '  "dependencies": {',
    '    "next": "14.1.0"',
    "  },",
    '  "devDependencies": { "typescript": "^5" },',
    '  "peerDependencies": { "react": "^18" }',
    "}",
  ].join("\n");
  const pkg = parsePackageJson(text);
  t.deepEqual(
    [...(pkg?.dependencies ?? [])],
    [
      ["next", 7],
      ["typescript", 9],
    ],
  );
  t.deepEqual(pkg?.workspaces, ["apps/*"]);
  t.deepEqual(pkg?.engineNode, { value: ">=20", line: 3 });
  t.is(pkg?.publishScript, "release");
  t.deepEqual(
    parsePackageJson('{"workspaces": []}')?.workspaces,
    [],
    "an empty list stays empty (and declares nothing)",
  );
  t.is(parsePackageJson("[1]"), undefined);
});

test("TOML: dotted and quoted keys, tables, multi-line arrays, comments and multi-line strings", (t) => {
  const entries = readTomlEntries(
    [
      "# comment",
      "[project]",
      'name = "x" # trailing',
      "dependencies = [",
      '  "django>=4", # inline comment',
      "  'gunicorn',",
      "]",
      'description = """',
      "[not.a.table]",
      '"""',
      "[target.'cfg(target_os = \"linux\")'.dependencies]",
      'nix = "0.27"',
      "[[bin]]",
      'name = "server"',
      "tool.uv.dev = true",
    ].join("\n"),
  );
  const byKey = new Map(entries.map((e) => [e.path.join("|"), e]));
  t.is(byKey.get("project|name")?.value, '"x"');
  t.regex(byKey.get("project|dependencies")?.value ?? "", /django>=4[\s\S]*gunicorn/);
  t.is(byKey.get("project|dependencies")?.line, 4);
  t.false(
    [...byKey.keys()].some((key) => key.startsWith("not")),
    "a header inside a multi-line string is not a table",
  );
  t.is(byKey.get('target|cfg(target_os = "linux")|dependencies|nix')?.value, '"0.27"');
  t.is(byKey.get("bin|name")?.value, '"server"');
  t.truthy(byKey.get("bin|tool|uv|dev"));
});

test("pyproject: PEP 621, dependency groups, Poetry tables, requires-python, uv workspace", (t) => {
  const pep621 = parsePyproject(
    '[project]\nrequires-python = ">=3.11"\ndependencies = ["FastAPI[standard] >=0.100", "Flask_Login"]\n[dependency-groups]\ndev = ["pytest"]\n[tool.uv.workspace]\nmembers = ["backend", "libs/*"]\n',
  );
  t.deepEqual([...pep621.dependencies.keys()], ["fastapi", "flask-login", "pytest"]);
  t.deepEqual(pep621.requiresPython, { value: ">=3.11", line: 2 });
  t.deepEqual(pep621.uvWorkspaceMembers, ["backend", "libs/*"]);
  t.true(pep621.tools.has("uv"));
  const poetry = parsePyproject(
    '[tool.poetry.dependencies]\npython = "^3.10"\nDjango = "^5"\n\n[tool.poetry.group.dev.dependencies]\nblack = "*"\n',
  );
  t.deepEqual([...poetry.dependencies.keys()], ["django", "black"]);
  t.is(poetry.requiresPython?.value, "^3.10");
});

test("requirements.txt: names from specifiers, extras, markers and #egg=, options skipped", (t) => {
  const found = parseRequirements(
    [
      "-r base.txt",
      "--hash=sha256:abc",
      "Django[argon2]>=4.2 ; python_version > '3.8'",
      "",
      "# comment",
      "git+https://github.com/pallets/flask#egg=Flask",
      "uvicorn==0.29 # pinned",
      "https://example.com/x.whl",
    ].join("\n"),
  );
  t.deepEqual(
    [...found],
    [
      ["django", 3],
      ["flask", 6],
      ["uvicorn", 7],
    ],
  );
});

test("Pipfile: packages and the Python version", (t) => {
  const pipfile = parsePipfile(
    '[packages]\nflask = "*"\n"Flask-SQLAlchemy" = "*"\n\n[requires]\npython_version = "3.11"\n',
  );
  t.deepEqual([...pipfile.dependencies.keys()], ["flask", "flask-sqlalchemy"]);
  t.deepEqual(pipfile.python, { value: "3.11", line: 6 });
});

test("pom.xml: parent, dependencies, plugins (default group), modules, Java release; comments ignored", (t) => {
  const pom = parsePom(
    [
      "<project>",
      "  <parent><groupId>org.springframework.boot</groupId><artifactId>spring-boot-starter-parent</artifactId></parent>",
      "  <properties><java.version>21</java.version></properties>",
      "  <modules><module>api</module><module>./core/</module></modules>",
      "  <!-- <dependency><groupId>io.quarkus</groupId><artifactId>quarkus-core</artifactId></dependency> -->",
      "  <dependencies><dependency>",
      "    <groupId>org.postgresql</groupId><artifactId>postgresql</artifactId>",
      "    <exclusions><exclusion><groupId>x</groupId><artifactId>y</artifactId></exclusion></exclusions>",
      "  </dependency></dependencies>",
      "  <build><plugins><plugin><artifactId>maven-compiler-plugin</artifactId></plugin></plugins></build>",
      "</project>",
    ].join("\n"),
  );
  t.deepEqual(
    pom.coordinates.map((c) => `${c.group}:${c.artifact}@${c.line}`),
    [
      "org.springframework.boot:spring-boot-starter-parent@2",
      "org.postgresql:postgresql@6",
      "org.apache.maven.plugins:maven-compiler-plugin@10",
    ],
  );
  t.deepEqual(pom.modules, ["api", "./core"]);
  t.deepEqual(pom.javaVersion, { value: "21", line: 3 });
});

test("Gradle: plugin ids in both DSLs, coordinates, catalog aliases, Java version; comments ignored", (t) => {
  const catalog = parseVersionCatalog(
    '[versions]\nboot = "3.2.0"\n[plugins]\nspring-boot = { id = "org.springframework.boot", version.ref = "boot" }\n[libraries]\nquarkus-core = { module = "io.quarkus:quarkus-core" }\nmicronaut = "io.micronaut:micronaut-http:4.0"\n',
  );
  const build = parseGradleBuild(
    [
      "plugins {",
      "  alias(libs.plugins.spring.boot)",
      '  kotlin("jvm") version "1.9.0"',
      "  id 'java'",
      "}",
      "// id 'io.quarkus'",
      "apply plugin: 'war'",
      "dependencies {",
      '  implementation("org.postgresql:postgresql:42.7.1")',
      "  implementation group: 'com.google.guava', name: 'guava', version: '33.0'",
      "  implementation(libs.quarkus.core)",
      '  /* implementation "io.micronaut:micronaut-core" */',
      "}",
      "java { sourceCompatibility = JavaVersion.VERSION_1_8 }",
    ].join("\n"),
    catalog,
  );
  const coordinates = build.coordinates.map((c) => (c.artifact === undefined ? c.group : `${c.group}:${c.artifact}`));
  t.true(coordinates.includes("org.springframework.boot"));
  t.true(coordinates.includes("org.jetbrains.kotlin.jvm"));
  t.true(coordinates.includes("java"));
  t.true(coordinates.includes("war"));
  t.true(coordinates.includes("org.postgresql:postgresql"));
  t.true(coordinates.includes("com.google.guava:guava"));
  t.true(coordinates.includes("io.quarkus:quarkus-core"));
  t.false(
    coordinates.some((c) => c.startsWith("io.micronaut") || c === "io.quarkus"),
    "commented-out lines do not count",
  );
  t.deepEqual(build.javaVersion, { value: "1.8", line: 14 });
  t.deepEqual(parseGradleSettings("include ':app', ':libs:core'\ninclude(\"web\")\n// include ':old'\n"), [
    "app",
    "libs/core",
    "web",
  ]);
});

test("go.mod: module, required modules in blocks and single lines, toolchain over go", (t) => {
  const mod = parseGoMod(
    "module example.com/api\n\ngo 1.21\ntoolchain go1.22.1\n\nrequire github.com/gin-gonic/gin v1.9.1\nrequire (\n\tgithub.com/gofiber/fiber/v2 v2.52.0 // indirect\n)\n",
  );
  t.is(mod.module, "example.com/api");
  t.deepEqual(mod.goVersion, { value: "1.22.1", line: 4 });
  t.deepEqual(
    [...mod.requires],
    [
      ["github.com/gin-gonic/gin", 6],
      ["github.com/gofiber/fiber/v2", 8],
    ],
  );
});

test("Gemfile and Cargo.toml", (t) => {
  const gemfile = parseGemfile(
    'source "https://rubygems.org"\nruby "~> 3.2.0"\n# gem "rails"\ngem "sinatra", require: false\ngem("puma")\n',
  );
  t.deepEqual(
    [...gemfile.gems],
    [
      ["sinatra", 4],
      ["puma", 5],
    ],
  );
  t.deepEqual(gemfile.ruby, { value: "3.2.0", line: 2 });
  t.is(parseGemfile('ruby file: ".ruby-version"\n').ruby, undefined);

  const cargo = parseCargoToml(
    '[package]\nname = "api"\n\n[dependencies]\naxum = "0.7"\n\n[dependencies.rocket]\nversion = "0.5"\n\n[workspace]\nmembers = ["crates/*"]\n\n[[bin]]\nname = "server"\n',
  );
  t.is(cargo.packageName, "api");
  t.deepEqual([...cargo.crates.keys()], ["axum", "rocket"]);
  t.deepEqual(cargo.workspaceMembers, ["crates/*"]);
  t.deepEqual(cargo.bins, ["server"]);
});

test("pnpm-workspace.yaml: block and flow lists; settings alone declare no packages", (t) => {
  t.deepEqual(parsePnpmWorkspace("packages:\n  # apps\n  - 'apps/*'\n  - \"!apps/old\"\n\ncatalog:\n  react: ^18\n"), [
    "apps/*",
    "!apps/old",
  ]);
  t.deepEqual(parsePnpmWorkspace("packages: ['a/*', \"b\"]\n"), ["a/*", "b"]);
  t.is(parsePnpmWorkspace("onlyBuiltDependencies:\n  - esbuild\n"), undefined);
});

test("Dockerfile base images, last stage first, registry and tag stripped", (t) => {
  const images = dockerBaseImages(
    "FROM --platform=$BUILDPLATFORM docker.io/library/node:20-alpine AS deps\nFROM ${BASE}\nfrom ghcr.io/acme/runtime:1 \n",
  );
  t.deepEqual(images, [
    { image: "acme/runtime", line: 3 },
    { image: "node", line: 1 },
  ]);
});

test("version files", (t) => {
  t.is(readPlainVersion("\n# pinned\nv20.11.1\n"), "20.11.1");
  t.is(readPlainVersion("python-3.12.1"), "3.12.1");
  t.deepEqual(readToolVersions("nodejs 20.1.0\npython 3.12.0 3.11.0\n").get("python"), { value: "3.12.0", line: 2 });
  t.is(readRustToolchain('[toolchain]\nchannel = "1.76.0"\n'), "1.76.0");
  t.is(readRustToolchain("stable\n"), "stable");
});

test("globs: one segment for *, any depth for **, alternatives in braces", (t) => {
  t.true(matchesGlob("apps/*", "apps/web"));
  t.false(matchesGlob("apps/*", "apps/web/admin"));
  t.true(matchesGlob("packages/**", "packages"));
  t.true(matchesGlob("packages/**", "packages/a/b"));
  t.true(matchesGlob("**/test/**", "a/test/b"));
  t.true(matchesGlob("{build,settings}.gradle{,.kts}", "settings.gradle.kts"));
  t.false(matchesGlob("next.config.*", "next.config/x.js"));
  t.false(matchesGlob("a.b", "axb"), "dots are literal");
});

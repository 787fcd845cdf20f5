/**
 * Detection as data: every framework Slipway recognizes, the signals that identify it, how specific it is, and the
 * commands its builder runs by default. The engine (`matchFrameworks`) evaluates this table over one folder's facts;
 * adding a framework is adding a row.
 */

export const FRAMEWORK_IDS = [
  "nextjs",
  "nuxtjs",
  "sveltekit",
  "astro",
  "remix",
  "gatsby",
  "angular",
  "vue",
  "create-react-app",
  "vite",
  "nestjs",
  "express",
  "fastify",
  "koa",
  "hono",
  "nodejs",
  "spring-boot",
  "quarkus",
  "micronaut",
  "java",
  "django",
  "flask",
  "fastapi",
  "python",
  "gin",
  "echo",
  "fiber",
  "go",
  "axum",
  "actix-web",
  "rocket",
  "rust",
  "rails",
  "sinatra",
  "ruby",
  "laravel",
  "symfony",
  "php",
  "static",
] as const;
export type FrameworkId = (typeof FRAMEWORK_IDS)[number];

export function isFrameworkId(value: unknown): value is FrameworkId {
  return typeof value === "string" && (FRAMEWORK_IDS as readonly string[]).includes(value);
}

/** The toolchain family a framework belongs to; it decides the builder and which versions matter. */
export type Ecosystem = "node" | "java" | "python" | "go" | "rust" | "ruby" | "php" | "static";

/**
 * One piece of evidence a folder can hold. Dependency signals look at the folder's manifests (and, for `jvm`, at
 * the modules of a multi-module build); `file` is a glob relative to the folder, at most two levels down.
 */
export type Signal =
  /** A `dependencies`/`devDependencies` entry of package.json. */
  | { readonly npm: string }
  /** A plugin id or artifact group in pom.xml / build.gradle(.kts): equal to it, or a sub-group of it. */
  | { readonly jvm: string }
  /** A module required in go.mod (any major version: `/v4` suffixes match). */
  | { readonly goModule: string }
  /** A crate in Cargo.toml's dependency tables. */
  | { readonly crate: string }
  /** A `gem` line of the Gemfile. */
  | { readonly gem: string }
  /** A `require`/`require-dev` package of composer.json. */
  | { readonly composer: string }
  /** A project in requirements*.txt, pyproject.toml or Pipfile (PEP 503-normalized). */
  | { readonly pypi: string }
  /** A `[tool.X]` table of pyproject.toml. */
  | { readonly pyprojectTool: string }
  /** A package.json script. */
  | { readonly script: string }
  /** A package.json script whose command runs this binary. */
  | { readonly scriptRuns: string }
  | { readonly file: string };

/**
 * A command the builder may run. Placeholders in braces are filled from the folder's facts: `{x}` the package
 * runner (npx, pnpm exec, …) and `{run}` the script runner (Node) or environment prefix (Python: "uv run ", …);
 * `{mvn}`/`{gradle}` the wrapper or the tool and `{moduleDir}` the module holding a multi-module build's app;
 * `{main}`/`{module}`/`{wsgi}` a Python or Ruby entry file, its module and Django's WSGI module; `{pkg}` the Go main
 * package; `{bin}` the Rust binary; `{entry}` a Node entry file; `{docroot}` PHP's document root. A template whose
 * placeholder cannot be filled, whose `when` signal is absent, or whose `tool` is not the build tool, is skipped
 * for the next one.
 */
export interface CommandTemplate {
  readonly run: string;
  readonly when?: Signal;
  /** Only for this Java build tool. */
  readonly tool?: "maven" | "gradle";
}

export interface FrameworkDefinition {
  readonly id: FrameworkId;
  readonly name: string;
  readonly ecosystem: Ecosystem;
  /**
   * framework: a framework or server, deployable on its own; language: a bare language project (a deployable app
   * at a root, but never chosen over a framework when searching); static: plain files.
   */
  readonly tier: "framework" | "language" | "static";
  /** When several rows match one folder, the highest wins: nextjs (40) over vite (20), spring-boot over java. */
  readonly specificity: number;
  /** Matches when any `some` signal is present, every `every` signal is, and no `none` signal is. */
  readonly detect: {
    readonly some: readonly Signal[];
    readonly every?: readonly Signal[];
    readonly none?: readonly Signal[];
  };
  /**
   * Bare-language rows: signals that the project runs something (an entry point, a main package, a rackup file),
   * as opposed to a library or a folder of tooling scripts. Searching a repository counts such a folder as an app
   * only with one of these; at the root or a requested folder they are not needed.
   */
  readonly runs?: readonly Signal[];
  /**
   * Node rows only: a package.json carrying it is a Node app even beside a backend manifest (a server or a
   * full-stack framework), rather than front-end tooling for that backend (Vite for Laravel, React for Django).
   */
  readonly standsAlone?: boolean;
  readonly build?: readonly CommandTemplate[];
  readonly start?: readonly CommandTemplate[];
  /** Where a static build's files end up, relative to the app folder. */
  readonly output?: string;
}

const PORT = "${PORT:-8080}";
const node = (
  id: FrameworkId,
  name: string,
  specificity: number,
  packages: readonly string[],
  extra: Partial<FrameworkDefinition> = {},
): FrameworkDefinition => ({
  id,
  name,
  ecosystem: "node",
  tier: "framework",
  specificity,
  detect: { some: packages.map((npm) => ({ npm })) },
  ...extra,
});

/** Ordered: on a tie of specificity within a folder, the earlier row wins and the later ones become candidates. */
export const FRAMEWORKS: readonly FrameworkDefinition[] = [
  // Node: meta-frameworks and servers first, build tools after, the bare runtime last.
  node("nextjs", "Next.js", 40, ["next"], {
    standsAlone: true,
    build: [{ run: "{x} next build" }],
    start: [{ run: "{x} next start -p ${PORT:-3000}" }],
  }),
  node("nuxtjs", "Nuxt", 40, ["nuxt", "nuxt3", "nuxt-edge"], {
    standsAlone: true,
    build: [{ run: "{x} nuxt build" }],
    start: [{ run: "node .output/server/index.mjs" }],
  }),
  node("sveltekit", "SvelteKit", 40, ["@sveltejs/kit"], {
    standsAlone: true,
    build: [{ run: "{x} vite build" }],
    start: [{ when: { npm: "@sveltejs/adapter-node" }, run: "node build" }],
    output: "build",
  }),
  node("astro", "Astro", 40, ["astro"], {
    standsAlone: true,
    build: [{ run: "{x} astro build" }],
    start: [{ when: { npm: "@astrojs/node" }, run: "node ./dist/server/entry.mjs" }],
    output: "dist",
  }),
  node("remix", "Remix", 40, ["@remix-run/dev", "@remix-run/react", "@remix-run/node", "@remix-run/serve"], {
    standsAlone: true,
    build: [{ run: "{x} remix build" }],
    start: [{ run: "{x} remix-serve ./build/index.js" }],
  }),
  {
    ...node("gatsby", "Gatsby", 40, ["gatsby"], {
      standsAlone: true,
      build: [{ run: "{x} gatsby build" }],
      output: "public",
    }),
    detect: { some: [{ npm: "gatsby" }, { file: "gatsby-config.{js,mjs,ts}" }] },
  },
  node("nestjs", "NestJS", 40, ["@nestjs/core"], {
    standsAlone: true,
    build: [{ run: "{x} nest build" }],
    start: [{ run: "node dist/main" }],
  }),
  {
    ...node("angular", "Angular", 30, ["@angular/core"], { build: [{ run: "{x} ng build" }], output: "dist" }),
    detect: { some: [{ npm: "@angular/core" }, { file: "angular.json" }] },
  },
  node("vue", "Vue", 30, ["vue", "@vue/cli-service"], {
    // More specific than Vite, which most Vue apps are built with; Vue CLI builds the older ones.
    build: [{ when: { npm: "vite" }, run: "{x} vite build" }, { run: "{x} vue-cli-service build" }],
    output: "dist",
  }),
  node("create-react-app", "Create React App", 30, ["react-scripts"], {
    build: [{ run: "{x} react-scripts build" }],
    output: "build",
  }),
  node("express", "Express", 30, ["express"], { standsAlone: true, start: [{ run: "node {entry}" }] }),
  node("fastify", "Fastify", 30, ["fastify"], { standsAlone: true, start: [{ run: "node {entry}" }] }),
  node("koa", "Koa", 30, ["koa"], { standsAlone: true, start: [{ run: "node {entry}" }] }),
  node("hono", "Hono", 30, ["hono"], { standsAlone: true, start: [{ run: "node {entry}" }] }),
  {
    // The vite package alone often comes with vitest or Storybook; a Vite app also has a config, a page or a script.
    ...node("vite", "Vite", 20, ["vite"], { build: [{ run: "{x} vite build" }], output: "dist" }),
    detect: {
      every: [{ npm: "vite" }],
      some: [{ file: "vite.config.{js,mjs,cjs,ts,mts,cts}" }, { file: "index.html" }, { scriptRuns: "vite" }],
    },
  },
  {
    id: "nodejs",
    name: "Node.js",
    ecosystem: "node",
    tier: "language",
    specificity: 10,
    // A package.json alone is often just tooling (prettier, husky): a Node app has something to start, or is a
    // Worker (a server whose runtime is wrangler's).
    detect: {
      some: [{ script: "start" }, { file: "server.{js,mjs,cjs,ts}" }, { file: "wrangler.{toml,json,jsonc}" }],
      every: [{ file: "package.json" }],
    },
    start: [{ run: "node {entry}" }],
  },

  // Java: the build tool (pom.xml → Maven, else Gradle) decides the builder; the framework decides the artifact.
  {
    id: "spring-boot",
    name: "Spring Boot",
    ecosystem: "java",
    tier: "framework",
    specificity: 40,
    detect: { some: [{ jvm: "org.springframework.boot" }] },
    start: [
      { tool: "maven", run: `java -Dserver.port=${PORT} -jar {moduleDir}target/*.jar` },
      { tool: "gradle", run: `java -Dserver.port=${PORT} -jar $(ls {moduleDir}build/libs/*.jar | grep -v plain)` },
    ],
  },
  {
    id: "quarkus",
    name: "Quarkus",
    ecosystem: "java",
    tier: "framework",
    specificity: 40,
    detect: { some: [{ jvm: "io.quarkus" }] },
    start: [
      { tool: "maven", run: `java -Dquarkus.http.port=${PORT} -jar {moduleDir}target/quarkus-app/quarkus-run.jar` },
      { tool: "gradle", run: `java -Dquarkus.http.port=${PORT} -jar {moduleDir}build/quarkus-app/quarkus-run.jar` },
    ],
  },
  {
    id: "micronaut",
    name: "Micronaut",
    ecosystem: "java",
    tier: "framework",
    specificity: 40,
    detect: { some: [{ jvm: "io.micronaut" }] },
    start: [
      { tool: "maven", run: "java -jar {moduleDir}target/*.jar" },
      { tool: "gradle", run: "java -jar {moduleDir}build/libs/*-all.jar" },
    ],
  },
  {
    id: "java",
    name: "Java",
    ecosystem: "java",
    tier: "language",
    specificity: 10,
    detect: { some: [{ file: "pom.xml" }, { file: "{build,settings}.gradle{,.kts}" }] },
    start: [
      { tool: "maven", run: "java -jar {moduleDir}target/*.jar" },
      { tool: "gradle", run: "java -jar $(ls {moduleDir}build/libs/*.jar | grep -v plain)" },
    ],
  },

  // Python
  {
    id: "django",
    name: "Django",
    ecosystem: "python",
    tier: "framework",
    specificity: 40,
    detect: { some: [{ pypi: "django" }, { file: "manage.py" }] },
    build: [{ when: { file: "manage.py" }, run: "{run}python manage.py collectstatic --noinput" }],
    start: [
      { when: { pypi: "gunicorn" }, run: "{run}gunicorn {wsgi}:application --bind 0.0.0.0:${PORT:-8000}" },
      { when: { file: "manage.py" }, run: "{run}python manage.py runserver 0.0.0.0:${PORT:-8000}" },
    ],
  },
  {
    id: "flask",
    name: "Flask",
    ecosystem: "python",
    tier: "framework",
    specificity: 30,
    detect: { some: [{ pypi: "flask" }] },
    start: [
      { when: { pypi: "gunicorn" }, run: "{run}gunicorn --bind 0.0.0.0:${PORT:-8000} {module}:app" },
      { run: "{run}flask --app {module} run --host 0.0.0.0 --port ${PORT:-8000}" },
    ],
  },
  {
    id: "fastapi",
    name: "FastAPI",
    ecosystem: "python",
    tier: "framework",
    specificity: 30,
    detect: { some: [{ pypi: "fastapi" }] },
    start: [{ run: "{run}uvicorn {module}:app --host 0.0.0.0 --port ${PORT:-8000}" }],
  },
  {
    id: "python",
    name: "Python",
    ecosystem: "python",
    tier: "language",
    specificity: 10,
    detect: {
      some: [
        { file: "requirements*.txt" },
        { file: "requirements/*.txt" },
        { file: "pyproject.toml" },
        { file: "Pipfile" },
        { file: "setup.py" },
      ],
    },
    runs: [
      { file: "{main,app,wsgi,asgi,server,application,run}.py" },
      { file: "{app,src,api}/main.py" },
      { file: "Procfile" },
    ],
    start: [{ run: "{run}python {main}" }],
  },

  // Go
  ...(
    [
      ["gin", "Gin", "github.com/gin-gonic/gin"],
      ["echo", "Echo", "github.com/labstack/echo"],
      ["fiber", "Fiber", "github.com/gofiber/fiber"],
    ] as const
  ).map(([id, name, goModule]): FrameworkDefinition => ({
    id,
    name,
    ecosystem: "go",
    tier: "framework",
    specificity: 30,
    detect: { some: [{ goModule }] },
  })),
  {
    id: "go",
    name: "Go",
    ecosystem: "go",
    tier: "language",
    specificity: 10,
    detect: { some: [{ file: "go.mod" }] },
    runs: [{ file: "main.go" }, { file: "cmd/*/main.go" }, { file: "*/main.go" }],
  },

  // Rust
  ...(
    [
      ["axum", "Axum"],
      ["actix-web", "Actix Web"],
      ["rocket", "Rocket"],
    ] as const
  ).map(([id, name]): FrameworkDefinition => ({
    id,
    name,
    ecosystem: "rust",
    tier: "framework",
    specificity: 30,
    detect: { some: [{ crate: id }] },
  })),
  {
    id: "rust",
    name: "Rust",
    ecosystem: "rust",
    tier: "language",
    specificity: 10,
    detect: { some: [{ file: "Cargo.toml" }] },
    runs: [{ file: "src/main.rs" }, { file: "src/bin/*.rs" }, { file: "*/src/main.rs" }],
  },

  // Ruby
  {
    id: "rails",
    name: "Ruby on Rails",
    ecosystem: "ruby",
    tier: "framework",
    specificity: 40,
    detect: { some: [{ gem: "rails" }, { gem: "railties" }, { file: "bin/rails" }] },
    build: [{ run: "bundle exec rails assets:precompile" }],
    start: [{ run: "bundle exec rails server -b 0.0.0.0 -p ${PORT:-3000}" }],
  },
  {
    id: "sinatra",
    name: "Sinatra",
    ecosystem: "ruby",
    tier: "framework",
    specificity: 30,
    detect: { some: [{ gem: "sinatra" }] },
    start: [
      { when: { file: "config.ru" }, run: "bundle exec rackup --host 0.0.0.0 -p ${PORT:-4567}" },
      { run: "bundle exec ruby {main}" },
    ],
  },
  {
    id: "ruby",
    name: "Ruby",
    ecosystem: "ruby",
    tier: "language",
    specificity: 10,
    detect: { some: [{ file: "Gemfile" }, { file: "config.ru" }] },
    runs: [{ file: "config.ru" }, { file: "{app,main,server}.rb" }, { file: "Procfile" }],
    start: [{ when: { file: "config.ru" }, run: "bundle exec rackup --host 0.0.0.0 -p ${PORT:-8080}" }],
  },

  // PHP
  {
    id: "laravel",
    name: "Laravel",
    ecosystem: "php",
    tier: "framework",
    specificity: 40,
    detect: { some: [{ composer: "laravel/framework" }, { file: "artisan" }] },
    start: [{ run: "php artisan serve --host=0.0.0.0 --port=${PORT:-8000}" }],
  },
  {
    id: "symfony",
    name: "Symfony",
    ecosystem: "php",
    tier: "framework",
    specificity: 40,
    detect: { some: [{ composer: "symfony/framework-bundle" }, { file: "symfony.lock" }] },
    start: [{ run: "php -S 0.0.0.0:${PORT:-8000} -t public" }],
  },
  {
    id: "php",
    name: "PHP",
    ecosystem: "php",
    tier: "language",
    specificity: 10,
    detect: { some: [{ file: "composer.json" }, { file: "index.php" }, { file: "public/index.php" }] },
    runs: [{ file: "index.php" }, { file: "public/index.php" }, { file: "Procfile" }],
    start: [{ run: "php -S 0.0.0.0:${PORT:-8000} -t {docroot}" }],
  },

  {
    id: "static",
    name: "Static site",
    ecosystem: "static",
    tier: "static",
    specificity: 0,
    detect: { some: [{ file: "index.html" }] },
    output: ".",
  },
];

/** Ecosystems in the order a tie between two backends is broken; each such tie is also reported in `candidates`. */
export const BACKEND_ORDER: readonly Ecosystem[] = ["java", "go", "rust", "php", "ruby", "python"];

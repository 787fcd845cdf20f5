// ESLint (flat config): typescript-eslint's type-aware rules plus Pulumi's rules against Outputs in template
// literals (they would print "Calling [toString] on an [Output<T>]…" instead of the value).
import js from "@eslint/js";
import pulumi from "@pulumi/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
  // examples/ holds users' apps (repositories the local platform serves), not Slipway code.
  { ignores: ["node_modules/", ".cache/", ".slipway/", "test/fixtures/", "examples/", "eslint.config.mjs", "web/dist/"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    plugins: { "@pulumi": pulumi },
    rules: {
      "@pulumi/no-output-in-template-literal": "error",
      "@pulumi/no-output-instance-in-template-literal": "error",
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
    },
  },
  {
    // Runtime code runs inside Lambda: it never loads the Pulumi SDK (it would not be in the archive).
    files: ["runtime/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["@pulumi/*"], message: "runtime/ runs in Lambda: no @pulumi imports" }] }],
      // Pulumi's closure serializer reads a label as a free variable and refuses the function.
      "no-labels": "error",
      // Pulumi's closure serializer recreates a module-level Set or Map EMPTY in the Lambda: use arrays or objects.
      "no-restricted-syntax": [
        "error",
        ...["Program > VariableDeclaration", "Program > ExportNamedDeclaration > VariableDeclaration"].map((declaration) => ({
          selector: `${declaration} > VariableDeclarator > NewExpression[callee.name=/^(Set|Map|WeakMap|WeakSet)$/]`,
          message: "A module-level Set/Map reaches Lambda empty after closure serialization: use an array or object.",
        })),
      ],
    },
  },
);

import { defineConfig } from "vite";

// The dashboard is static files: index.html plus hashed assets (cached for a year), and config.json written where
// it is served (npm start writes it on the fly; the Dashboard component writes it at deploy time).
export default defineConfig({
  root: import.meta.dirname,
  base: "/",
  build: { outDir: "dist", emptyOutDir: true, target: "es2022", sourcemap: false },
  server: { port: 5173 },
});

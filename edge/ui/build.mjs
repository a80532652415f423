// Builds the web UI into dist/ (served by the edge): the contract's code from protos/ (buf + protoc-gen-es, into
// src/gen), then src/main.jsx bundled into app.js, plus index.html and style.css.
import { build } from "esbuild";
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync } from "node:fs";

execFileSync("node_modules/.bin/buf", ["generate"], { stdio: "inherit" });
mkdirSync("dist", { recursive: true });
await build({
  entryPoints: ["src/main.jsx"],
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2020",
  jsx: "automatic",
  jsxImportSource: "preact",
  outfile: "dist/app.js",
  logLevel: "warning",
});
for (const file of ["index.html", "style.css"]) copyFileSync(`src/${file}`, `dist/${file}`);

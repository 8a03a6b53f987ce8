#!/usr/bin/env node
// Builds the web client: generates TypeScript from the project's own schemas
// with `flatc --ts` into <work>/gen (never into the source tree), then bundles
// src/main.ts with esbuild into <out>/app.js next to index.html and app.css.
//
//   node build.mjs [--work DIR] [--out DIR] [--flatc PATH] [--modules DIR]
//
// --work     scratch directory for generated code (default ./build)
// --out      where the finished site goes (default <work>/site)
// --flatc    the flatc binary (default: flatc on PATH; must be 2.0.x)
// --modules  the node_modules holding esbuild and flatbuffers, as installed by
//            `npm ci` from this folder's package-lock.json (default ./node_modules)
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../../..');

function option(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = process.argv[i + 1];
  if (!v) throw new Error(`--${name} needs a value`);
  return path.resolve(v);
}

const work = option('work', path.join(here, 'build'));
const out = option('out', path.join(work, 'site'));
const flatc = process.argv.includes('--flatc') ? option('flatc') : 'flatc';
const modules = option('modules', path.join(here, 'node_modules'));

// The schemas the client speaks (PROTOCOL.md §2-§7).
const schemas = [
  'protocol/envelope.fbs', 'protocol/sys.fbs', 'plugins/auth/auth.fbs',
  'plugins/rooms/rooms.fbs', 'plugins/receipts/receipts.fbs',
].map((s) => path.join(repo, s));

const gen = path.join(work, 'gen');
rmSync(gen, { recursive: true, force: true });
mkdirSync(gen, { recursive: true });
execFileSync(flatc, ['--ts', '-o', gen, ...schemas], { stdio: 'inherit' });

// esbuild and tsc come from the npm-installed node_modules, wherever that is.
const require = createRequire(path.join(modules, 'noop.js'));
const esbuild = require('esbuild');

// Type-check first (esbuild only strips types): the sources against the
// generated classes and the flatbuffers runtime they were generated for.
const tsconfig = path.join(work, 'tsconfig.json');
writeFileSync(tsconfig, JSON.stringify({
  extends: path.join(here, 'tsconfig.json'),
  compilerOptions: {
    paths: {
      '@gen/*': [path.join(gen, '*')],
      flatbuffers: [path.join(modules, 'flatbuffers/mjs/index.d.ts')],
    },
  },
  include: [path.join(here, 'src/**/*.ts')],
}, null, 2));
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', tsconfig], { stdio: 'inherit' });

// `@gen/x` imports resolve into the generated folder.
const genAlias = {
  name: 'parley-gen',
  setup(build) {
    build.onResolve({ filter: /^@gen\// }, (args) => ({
      path: path.join(gen, `${args.path.slice('@gen/'.length)}.ts`),
    }));
  },
};

mkdirSync(out, { recursive: true });
await esbuild.build({
  entryPoints: [path.join(here, 'src/main.ts')],
  outfile: path.join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  nodePaths: [modules],
  plugins: [genAlias],
  logLevel: 'warning',
  logOverride: { 'import-is-undefined': 'error' },
});
await esbuild.build({
  entryPoints: [path.join(here, 'src/app.css')],
  outfile: path.join(out, 'app.css'),
  bundle: true,
  minify: true,
  logLevel: 'warning',
});
copyFileSync(path.join(here, 'src/index.html'), path.join(out, 'index.html'));
console.log(`parley web client built into ${out}`);

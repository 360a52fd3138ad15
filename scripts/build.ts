/**
 * Builds dist/: tsc writes the declaration files, one per source file, into dist/; the modules tsc
 * compiles (comments left out) go to a scratch directory, and rollup joins them into dist/: one
 * file per package entry point (package.json `exports` and `bin`), one `core` chunk holding every
 * module the package root imports, and a chunk per module loaded on demand (`import()`: the ingest,
 * the push, the cluster, the format writers a scrape may ask for), beside the chunks those share.
 *
 * Why: a host pays for every module it loads, not only for the code in it. Node's loader keeps a
 * record, a job, a compiled top level and the source of each. A pull host loaded ~140 of
 * jobmeter's own modules and spent more memory and time before its first scrape than
 * `sdk-metrics` + `exporter-prometheus` doing the same (bench/README.md, the `startup` row); as two
 * files (the root and its core) it spends about what they do. esbuild does not do this: it splits a
 * module the root imports and an `import()` target imports too into a chunk of its own (a pull host
 * loaded 41); rollup's `manualChunks` keeps them in the core, which the loaded-on-demand chunks import.
 *
 * What must stay true:
 * - One build for every entry point: a module two entry points share is in one chunk, so `jobmeter`
 *   and `jobmeter/http` (or an integration) share its state and classes.
 * - The OTLP ingest's decoding thread is started from `new URL('./decode-worker.js',
 *   import.meta.url)` in ingest/decoder-pool.ts: the worker is an entry point written beside the
 *   chunk that holds decoder-pool.ts (checked below).
 * - Dependencies stay imports: a host's `@opentelemetry/api` is the one jobmeter uses.
 * - The built copy of src/version.ts carries the commit it was built from (`unknown` outside git):
 *   a tarball installed anywhere reports its own build, never the git repository it lands in.
 * - dist/meta.json lists the modules in each written file; the tests read it, the tarball leaves it
 *   out.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { rollup, type GetModuleInfo } from 'rollup';
import { gitCommit } from '../src/version.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DIST = join(ROOT, 'dist');
const tsc = (...args: string[]) =>
  execFileSync(join(ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json', ...args], {
    cwd: ROOT,
    stdio: 'inherit',
  });

/**
 * dist/cjs/: every declaration of dist/src/ again as CommonJS (`.d.cts`, its relative imports
 * `.cjs`), which package.json's `require` conditions point at. Why: TypeScript's `module: node16`
 * in a CommonJS package refuses an ES module's declarations to `import` (TS1479), though every
 * Node the package runs on can `require` it; a `.d.cts` that only re-exports the `.d.ts` is
 * refused the same way, so the tree is copied (test/package/typescript-setups.test.ts).
 */
function writeCommonJsDeclarations(from: string, to: string): void {
  for (const entry of readdirSync(from, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue;
    const path = join(entry.parentPath, entry.name);
    const text = readFileSync(path, 'utf8').replace(
      /((?:from|import)\s*\(?\s*['"])(\.{1,2}\/[^'"]*?)\.(?:js|ts)(['"])/g,
      '$1$2.cjs$3',
    );
    const out = join(to, relative(from, path)).replace(/\.d\.ts$/, '.d.cts');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, text);
  }
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  exports: Record<string, { default: string }>;
  bin: Record<string, string>;
};

const BUILT_LINE = "const BUILT_COMMIT = '';";
const built = `const BUILT_COMMIT = ${JSON.stringify(gitCommit(ROOT) ?? 'unknown')};`;

const scratch = mkdtempSync(join(tmpdir(), 'jobmeter-build-'));
try {
  // Declarations keep their comments (an editor shows them); the modules a host runs do not.
  rmSync(DIST, { recursive: true, force: true });
  tsc('--emitDeclarationOnly');
  writeCommonJsDeclarations(join(DIST, 'src'), join(DIST, 'cjs'));
  tsc('--removeComments', '--declaration', 'false', '--outDir', scratch);

  /** Output name (under dist/, no extension) → the module tsc compiled. */
  const input: Record<string, string> = {};
  for (const path of [
    ...Object.values(pkg.exports).map((e) => e.default),
    ...Object.values(pkg.bin),
  ]) {
    const name = relative(DIST, join(ROOT, path)).replace(/\.js$/, '');
    input[name] = join(scratch, `${name}.js`);
  }
  input['src/decode-worker'] = join(scratch, 'src/ingest/decode-worker.js');
  const ROOT_ENTRY = input['src/index']!;

  const external = (id: string) => !id.startsWith('.') && !isAbsolute(id);
  let core: Set<string> | undefined;
  /** Every module the package root imports, transitively, without `import()`. */
  const staticGraph = (getModuleInfo: GetModuleInfo) => {
    const seen = new Set<string>();
    const todo = [ROOT_ENTRY];
    for (let id = todo.pop(); id !== undefined; id = todo.pop()) {
      if (seen.has(id)) continue;
      seen.add(id);
      todo.push(...(getModuleInfo(id)?.importedIds ?? []).filter((d) => !external(d)));
    }
    // The entry's own code stays in its file: its refusal of an old Node (common/node-support.ts)
    // must not run when the bin loads the core.
    seen.delete(ROOT_ENTRY);
    return seen;
  };

  const bundle = await rollup({
    input,
    external,
    // A JSON module (the OTLP descriptor, src/otlp/otlp-metrics.json, which tsc copies beside the
    // modules) becomes a module of the bundle: nothing beside the chunks to ship or to find.
    plugins: [
      {
        name: 'json',
        transform: (code, id) => (id.endsWith('.json') ? `export default ${code};` : null),
      },
      {
        name: 'build-identity',
        transform(code, id) {
          if (id !== join(scratch, 'src/version.js')) return null;
          if (!code.includes(BUILT_LINE)) throw new Error(`build: no '${BUILT_LINE}' in ${id}`);
          return code.replace(BUILT_LINE, built);
        },
      },
    ],
    onwarn(warning, warn) {
      // Import cycles are fine in ESM (and tested as modules); anything else fails the build.
      if (warning.code === 'CIRCULAR_DEPENDENCY') return;
      warn(warning);
      throw new Error(`build: ${warning.message}`);
    },
  });
  const { output } = await bundle.write({
    dir: DIST,
    format: 'es',
    entryFileNames: '[name].js',
    chunkFileNames: 'src/[name]-[hash].js',
    manualChunks: (id, { getModuleInfo }) =>
      (core ??= staticGraph(getModuleInfo)).has(id) ? 'core' : undefined,
  });
  await bundle.close();

  const meta: Record<string, string[]> = {};
  for (const file of output)
    if (file.type === 'chunk')
      meta[`dist/${file.fileName}`] = Object.keys(file.modules).map(
        (m) => `dist/${relative(scratch, m)}`,
      );
  const pool = Object.keys(meta).filter((f) =>
    meta[f]!.includes('dist/src/ingest/decoder-pool.js'),
  );
  if (pool.length !== 1 || dirname(pool[0]!) !== 'dist/src')
    throw new Error(
      `build: ingest/decoder-pool.js must be in one chunk beside dist/src/decode-worker.js, found in ${pool.join(', ') || 'none'}`,
    );
  writeFileSync(join(DIST, 'meta.json'), `${JSON.stringify(meta, null, 1)}\n`);
  // The built modules' package scope: `type` alone (test/package/pull-host-modules.test.ts).
  writeFileSync(join(DIST, 'src/package.json'), readFileSync(join(ROOT, 'src/package.json')));
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
if (readdirSync(DIST).length === 0) throw new Error('build: dist/ is empty');

/**
 * Which build of jobmeter runs: its version (package.json's; a test keeps them equal) and the git
 * commit it was built from, as `jobmeter --version`, serve's first line and `jobmeter_build_info`
 * give them, so two builds of one version can be told apart.
 *
 * The commit is known three ways: a packed build carries it (scripts/build.ts writes it into this
 * module's built copy, `unknown` when it built outside git), so a tarball installed anywhere knows
 * it; the sources run from a checkout ask git; anything else is `unknown`. Never an error: the
 * commit only labels what runs.
 */
const { fileURLToPath } = process.getBuiltinModule('node:url');

/**
 * jobmeter's version.
 * @example
 *   console.log(`jobmeter ${VERSION}`);
 */
export const VERSION = '0.1.0';

/** What the build wrote (scripts/build.ts replaces this line in the built module); empty in the sources. */
const BUILT_COMMIT: string = '';

let commit: string | undefined;

/** The git commit this jobmeter was built from (or runs from), or `unknown`. */
export function buildCommit(): string {
  return (commit ??=
    BUILT_COMMIT !== ''
      ? BUILT_COMMIT
      : (gitCommit(fileURLToPath(new URL('.', import.meta.url))) ?? 'unknown'));
}

/** The commit checked out at `dir`, or undefined when `dir` is in no git work tree or git is missing. */
export function gitCommit(dir: string): string | undefined {
  try {
    const out = process
      .getBuiltinModule('node:child_process')
      .execFileSync('git', ['rev-parse', 'HEAD'], {
        cwd: dir,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 5000,
      })
      .trim();
    return /^[0-9a-f]{40}(?:[0-9a-f]{24})?$/.test(out) ? out : undefined;
  } catch {
    return undefined;
  }
}

/** `VERSION (commit …, Node.js …)`: the build and runtime in the words --version and serve print. */
export function buildLine(): string {
  return `${VERSION} (commit ${buildCommit()}, Node.js ${process.version})`;
}

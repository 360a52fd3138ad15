/**
 * Every code block of the README and docs/ is run or checked, or says it is a fragment
 * (blocks.ts says which is which). This file holds the blocks code-blocks.test.ts does not run:
 *
 * - each `sh` session runs as written in bash (`set -euo pipefail`), in a network namespace of its
 *   own (`unshare -rn`), with `jobmeter` (and `npx jobmeter`) the built dist/src/cli/bin.js,
 *   `otelcol` the tests' Collector and `prometheus` the pinned Prometheus 3; every command exits 0.
 *   A command that keeps running (`jobmeter serve`, `otelcol --config`, `prometheus`) is started
 *   in the background as a reader's second terminal would hold it, must listen (`jobmeter serve`:
 *   answer /ready), is still running at the end, and exits 0 on SIGTERM. A `curl` pipeline is
 *   retried for up to 30 s, as a reader retries until the first push or scrape has happened. Its
 *   files: the page's config blocks that name themselves (`# jobmeter.toml`) and the repository
 *   files the page links to.
 * - a `text output` block right below a session is what the session prints: its lines in order,
 *   `…` standing for any lines, a sample line's value for any value.
 * - a `yaml` block is checked by the program it configures: a Collector's by `otelcol validate`,
 *   Prometheus' by `promtool check config` (3.x; 2.42's too when it has no `otlp` section, which
 *   2.42 does not know), a rules file by `promtool check rules`, jobmeter's by its config parser.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';

import { parse as parseYaml } from 'yaml';

import { parseConfigText } from '../../src/config/file-parser.ts';
import { parseServiceConfig } from '../../src/config/file-layer.ts';
import { otelcolBinary, prometheus3Binary } from '../support/peers.ts';
import {
  type Block,
  blocksOf,
  checkedByExists,
  DOCS,
  fileNameOf,
  isFragment,
  nodeCommandOf,
  ROOT,
} from './blocks.ts';

const run = promisify(execFile);
const WORK = join(ROOT, '.tmp', `docs-shell-${process.pid}`);
const BIN = join(WORK, 'bin');
const FILE_LINE = /^\/\/ ([\w.-]+\.(?:ts|js|mjs))$/;
const SERIES = /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? \S+$/;
const LONG_RUNNING =
  /^(?:[A-Z_]+=\S*\s+)*(?:(?:npx )?(jobmeter) serve\b|(otelcol) --config|(prometheus) )/;

const PAGES = DOCS.map((doc) => blocksOf(doc));

type Kind =
  | 'program'
  | 'program command'
  | 'session'
  | 'output'
  | 'config'
  | 'fragment'
  | 'checked elsewhere';

/** What checks a block, or why nothing does. */
/** A {@link Kind}, or the sentence saying what the block lacks. */
function kindOf(blocks: Block[], i: number): string {
  const block = blocks[i]!;
  if (block.lang === '') return 'it has no language: tag it (`sh`, `text`, `yaml`…)';
  if (isFragment(block)) return 'fragment';
  if (block.checkedBy !== undefined)
    return checkedByExists(block)
      ? 'checked elsewhere'
      : `it names ${block.checkedBy}, which does not exist`;
  switch (block.lang) {
    case 'ts':
    case 'js':
      return 'program';
    case 'toml':
    case 'yaml':
      return 'config';
    case 'sh': {
      const next = blocks[i + 1];
      const entry =
        next === undefined ? undefined : FILE_LINE.exec(next.text.split('\n', 1)[0]!)?.[1];
      if (
        (next?.lang === 'ts' || next?.lang === 'js') &&
        entry !== undefined &&
        nodeCommandOf(block, entry) !== undefined
      )
        return 'program command';
      return 'session';
    }
    case 'text':
      if (block.info === 'output' && blocks[i - 1]?.lang === 'sh') return 'output';
      return 'a text block is `text output` right below its `sh` session, or a fragment';
    default:
      return `nothing checks \`${block.lang}\` blocks`;
  }
}

const ALL = PAGES.flatMap((blocks) =>
  blocks.map((block, i) => ({ block, i, blocks, kind: kindOf(blocks, i) })),
);
const where = (b: Block): string => `${b.doc}:${b.line}`;

/** A shell session as a bash script: long-running commands in the background, curls retried. */
function scriptOf(block: Block): string {
  const out: string[] = [];
  const lines = block.text.replace(/\\\n\s*/g, ' ').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const heredoc = /<<-?'?(\w+)'?/.exec(line);
    if (heredoc) {
      out.push(line);
      while (i + 1 < lines.length && lines[i] !== heredoc[1]) out.push(lines[++i]!);
      continue;
    }
    const long = LONG_RUNNING.exec(line.trim());
    if (long && !line.includes('--help')) {
      out.push(
        `before=$(ss -ltnH | wc -l)`,
        `${line.replace(/\s#.*$/, '')} >"bg-\${#pids[@]}.log" 2>&1 &`,
        `started $! ${long[1] ?? long[2] ?? long[3]} "$before"`,
      );
    } else if (/\bcurl\b/.test(line)) {
      out.push(`retry ${shellQuote(line.replace(/\s#.*$/, ''))}`);
    } else {
      out.push(line);
    }
  }
  return `set -euo pipefail
pids=()
logs() { for f in bg-*.log; do [ -e "$f" ] && { echo "--- $f" >&2; cat "$f" >&2; }; done; return 0; }
trap 'for p in "\${pids[@]}"; do kill -KILL "$p" 2>/dev/null || true; done' EXIT
# A long-running command: it listens (jobmeter serve: answers /ready) within 30 s, still running.
started() {
  local pid=$1 what=$2 before=$3
  pids+=("$pid")
  for _ in $(seq 300); do
    if ! kill -0 "$pid" 2>/dev/null; then local rc=0; wait "$pid" || rc=$?; echo "docs: $what exited ($rc) instead of running" >&2; logs; exit 1; fi
    if [ "$(ss -ltnH | wc -l)" -gt "$before" ]; then
      [ "$what" != jobmeter ] && return 0
      for port in $(ss -ltnH | awk '{ n = split($4, a, ":"); print a[n] }'); do
        curl -sf -o /dev/null "http://127.0.0.1:$port/ready" && return 0
      done
    fi
    sleep 0.1
  done
  echo "docs: $what is not listening (or not ready) after 30 s" >&2; logs; exit 1
}
retry() {
  local out
  for _ in $(seq 60); do
    if out=$(bash -o pipefail -c "$1" 2>/dev/null); then printf '%s\\n' "$out"; return 0; fi
    sleep 0.5
  done
  echo "docs: failed for 30 s: $1" >&2; bash -o pipefail -c "$1" >&2 || true; logs; exit 1
}
${out.join('\n')}
for pid in "\${pids[@]}"; do
  kill -0 "$pid" 2>/dev/null || { echo "docs: a long-running command ended on its own" >&2; logs; exit 1; }
  kill -TERM "$pid"; rc=0; wait "$pid" || rc=$?
  [ "$rc" = 0 ] || { echo "docs: a long-running command exited $rc on SIGTERM" >&2; logs; exit 1; }
done
pids=()
`;
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** Files a session of this page reads: its config blocks that name themselves, nearest above first. */
function filesFor(blocks: Block[], i: number): Map<string, string> {
  const files = new Map<string, string>();
  const named = blocks
    .map((b, k) => ({ b, k, name: fileNameOf(b) }))
    .filter((x) => x.name !== undefined && (x.b.lang === 'toml' || x.b.lang === 'yaml'));
  for (const { b, name } of [
    ...named.filter((x) => x.k > i).reverse(),
    ...named.filter((x) => x.k < i),
  ])
    files.set(name!, b.text);
  return files;
}

/** The expected lines, in order, `…` any lines, a series line's value any value. */
function missingFrom(expected: string, actual: string): string | undefined {
  const got = actual.split('\n');
  const same = (want: string, line: string): boolean =>
    want === line ||
    (SERIES.test(want) &&
      SERIES.test(line) &&
      want.replace(/ \S+$/, '') === line.replace(/ \S+$/, ''));
  let at = 0;
  for (const want of expected.trimEnd().split('\n')) {
    if (want === '…') continue;
    const found = got.findIndex((line, k) => k >= at && same(want, line));
    if (found === -1) return want;
    at = found + 1;
  }
  return undefined;
}

before(async () => {
  assert.ok(
    existsSync(join(ROOT, 'dist/src/cli/bin.js')),
    'dist/ is missing: run `npm run build` (npm test builds it first)',
  );
  await mkdir(BIN, { recursive: true });
  const shims: Record<string, string> = {
    jobmeter: `exec ${shellQuote(process.execPath)} ${shellQuote(join(ROOT, 'dist/src/cli/bin.js'))} "$@"`,
    npx: `[ "$1" = jobmeter ] || { echo "npx $1: the docs' sessions run only jobmeter" >&2; exit 127; }; shift; exec jobmeter "$@"`,
    otelcol: `exec ${shellQuote(otelcolBinary())} "$@"`,
    prometheus: `exec ${shellQuote(prometheus3Binary('prometheus'))} "$@"`,
    npm: 'echo "npm $1: a docs session cannot install (no network): mark the block \\`# fragment: …\\`" >&2; exit 127',
  };
  for (const [name, body] of Object.entries(shims)) {
    await writeFile(join(BIN, name), `#!/bin/sh\n${body}\n`);
    await chmod(join(BIN, name), 0o755);
  }
});
after(async () => {
  await rm(WORK, { recursive: true, force: true });
});

describe('README and docs code blocks, all of them', () => {
  it('each is run, checked, or says it is a fragment', () => {
    const unchecked = ALL.filter(
      (x) =>
        ![
          'program',
          'program command',
          'session',
          'output',
          'config',
          'fragment',
          'checked elsewhere',
        ].includes(x.kind),
    );
    assert.deepEqual(
      unchecked.map((x) => `${where(x.block)}: ${x.kind}`),
      [],
    );
    const count = (kind: Kind): number => ALL.filter((x) => x.kind === kind).length;
    // Found at all: the parser sees the pages' sessions, configs and output samples.
    assert.ok(
      count('session') >= 8 && count('config') >= 20 && count('output') >= 2,
      ALL.map((x) => `${where(x.block)}: ${x.kind}`).join('\n'),
    );
  });

  // A config another test checks for what it says is checked here too for being valid.
  for (const { block } of ALL.filter(
    (x) => (x.kind === 'config' || x.kind === 'checked elsewhere') && x.block.lang === 'yaml',
  )) {
    const config = parseYaml(block.text) as Record<string, unknown>;
    const keys = Object.keys(config ?? {});
    const collector = keys.includes('receivers');
    const rules = keys.includes('groups');
    const prometheus =
      !collector &&
      keys.some((k) =>
        ['scrape_configs', 'otlp', 'global', 'rule_files', 'remote_write'].includes(k),
      );
    const checker = collector
      ? 'otelcol validate'
      : rules
        ? 'promtool check rules'
        : prometheus
          ? 'promtool check config'
          : "jobmeter's config parser";
    it(`${where(block)} (${block.heading}): ${checker} accepts it`, async () => {
      if (!collector && !rules && !prometheus) {
        assert.doesNotThrow(() =>
          parseServiceConfig(parseConfigText(block.text, 'yaml', where(block)), where(block)),
        );
        return;
      }
      const dir = join(WORK, `yaml-${basename(block.doc)}-${block.line}`);
      await mkdir(dir, { recursive: true });
      const file = join(dir, 'config.yml');
      await writeFile(file, block.text);
      const fail = (err: NodeJS.ErrnoException & { stdout?: string; stderr?: string }): never => {
        throw new Error(`${where(block)}: ${err.message}\n${err.stdout ?? ''}${err.stderr ?? ''}`);
      };
      if (collector) {
        await run(otelcolBinary(), ['validate', `--config=${file}`], { cwd: dir }).catch(fail);
        return;
      }
      // promtool insists that the secret files a scrape job names exist: they do, empty, on a tmpfs
      // over /etc/prometheus in a mount namespace of its own (the host's is not touched).
      const secrets = [...block.text.matchAll(/^\s*\w+_file: (\S+)/gm)].map((m) => m[1]!);
      for (const s of secrets)
        assert.match(
          s,
          /^\/etc\/prometheus\/[\w/.-]+$/,
          `${where(block)}: a secret file the test can provide lives under /etc/prometheus/`,
        );
      assert.ok(
        secrets.length === 0 || existsSync('/etc/prometheus'),
        '/etc/prometheus is missing (a mount point for the secret files): apt-get install -y prometheus',
      );
      const provide = secrets
        .map((s) => `mkdir -p ${shellQuote(dirname(s))} && : > ${shellQuote(s)} && `)
        .join('');
      const promtools = [
        prometheus3Binary('promtool'),
        ...(keys.includes('otlp') ? [] : ['/usr/bin/promtool']),
      ];
      for (const promtool of promtools) {
        const argv = [
          '-rm',
          'sh',
          '-c',
          `mount -t tmpfs tmpfs /etc/prometheus && ${provide}exec "$0" "$@"`,
          promtool,
          'check',
          rules ? 'rules' : 'config',
          file,
        ];
        await run('unshare', argv, { cwd: dir }).catch((caught: unknown) => {
          const err = caught as NodeJS.ErrnoException & { stdout?: string };
          if (!existsSync(promtool))
            throw new Error('promtool (Prometheus 2.42) is missing: apt-get install -y prometheus');
          return fail(err);
        });
      }
    });
  }

  for (const { block, i, blocks } of ALL.filter((x) => x.kind === 'session')) {
    const output =
      blocks[i + 1]?.lang === 'text' && blocks[i + 1]!.info === 'output'
        ? blocks[i + 1]
        : undefined;
    it(`${where(block)} (${block.heading}) runs as written${output ? ', printing what the page shows' : ''}`, async () => {
      const dir = join(WORK, `sh-${basename(block.doc)}-${block.line}`);
      await mkdir(dir, { recursive: true });
      for (const [name, text] of filesFor(blocks, i)) await writeFile(join(dir, name), text);
      // The repository's own files the page links to (otel-collector.yaml).
      const page = readFileSync(join(ROOT, block.doc), 'utf8');
      for (const [, link] of page.matchAll(/\]\((?:\.\.\/)?([\w.-]+\.ya?ml)\)/g)) {
        if (!existsSync(join(dir, link!)) && existsSync(join(ROOT, link!)))
          copyFileSync(join(ROOT, link!), join(dir, link!));
      }
      await writeFile(join(dir, 'session.sh'), scriptOf(block));
      const env = { PATH: `${BIN}:/usr/bin:/bin`, HOME: dir, TMPDIR: dir };
      const { stdout } = await run(
        'unshare',
        ['-rn', 'sh', '-c', 'ip link set lo up && exec "$0" "$@"', 'bash', 'session.sh'],
        { cwd: dir, env, maxBuffer: 64 << 20, timeout: 150_000 },
      ).catch((caught: unknown) => {
        const err = caught as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
        if (err.code === 'ENOENT')
          throw new Error('unshare is missing: apt-get install -y util-linux iproute2');
        throw new Error(
          `${where(block)} failed: ${err.message}\nstdout:\n${err.stdout ?? ''}\nstderr:\n${err.stderr ?? ''}`,
        );
      });
      if (output) {
        const missing = missingFrom(output.text, stdout);
        assert.equal(
          missing,
          undefined,
          `${where(output)}: this line is not in the session's output, in order:\n${missing}\n--- output:\n${stdout}`,
        );
      }
    });
  }
});

/**
 * Reads a config file into plain data; the format follows the extension:
 * `.toml` (smol-toml), `.yaml` / `.yml` (yaml, YAML 1.2 core schema), `.json`.
 * Validation is file-layer.ts's job; this file only turns bytes into values.
 *
 * Every failure is a {@link ConfigError} on `--config` naming the file; parse errors add the line
 * and column. Only the parser's one-line reason is kept, never its code excerpt: the offending
 * line may hold a header value or token.
 *
 * Duplicate keys are errors in TOML and YAML; JSON.parse keeps the last one (as JSON allows).
 */
import { constants, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { extname } from 'node:path';

import { parse as parseToml, TomlError } from 'smol-toml';
import { isAlias, isCollection, parseDocument, visit } from 'yaml';

import { ConfigError } from '../errors.ts';

export type ConfigFormat = 'toml' | 'yaml' | 'json';

const FORMAT_BY_EXTENSION: Readonly<Record<string, ConfigFormat>> = {
  '.toml': 'toml',
  '.yaml': 'yaml',
  '.yml': 'yaml',
  '.json': 'json',
};

/** Each format's parser: its text, the file's path and key for errors → the document. */
const PARSERS = { toml: parseTomlText, yaml: parseYamlText, json: parseJsonText };

/** The key named in file errors: the serve flag (the preload passes JOBMETER_CONFIG). */
const KEY = '--config';

/**
 * Loads and parses `path`. Returns the parsed document (tables as plain objects; an empty YAML
 * file gives `null`), to be validated with `parseServiceConfig(raw, path)`. Read without blocking:
 * its I/O gives the event loop turns, so a signal caught while serve reads the file is answered
 * before anything starts (test/cli/serve-early-signals.test.ts), and a reload never stalls a scrape
 * on a slow disk.
 * @throws ConfigError for an unknown extension, an unreadable file or a syntax error.
 */
export async function loadConfigFile(path: string, key: string = KEY): Promise<unknown> {
  const format = FORMAT_BY_EXTENSION[extname(path).toLowerCase()];
  if (format === undefined)
    throw new ConfigError(key, path, 'a file ending in .toml, .yaml, .yml or .json');
  return parseConfigText(await readTextFile(path, key), format, path, key);
}

/**
 * The most a config file, or a file it names, may hold. Real ones hold a few KiB (an API keys
 * file of thousands of keys, a few hundred); the bound keeps a wrong path (a log, a device) from
 * being read into memory.
 */
export const MAX_CONFIG_FILE_BYTES = 1024 * 1024;

/**
 * A file the config names (the config itself, a token file), as text: a regular file of at most
 * {@link MAX_CONFIG_FILE_BYTES}. Anything else (a FIFO, a device such as /dev/zero, a link to one)
 * is refused, never read: a FIFO would block the read, a device could fill memory. Opened without
 * blocking (a FIFO with no writer) and checked on the open file, so what is checked is what is read.
 * @throws ConfigError on `key` naming the path and why it cannot be read.
 */
export async function readTextFile(path: string, key: string): Promise<string> {
  const unreadable = (why: string): ConfigError =>
    new ConfigError(key, path, `a readable file (${why})`);
  let handle: FileHandle;
  try {
    handle = await open(path, OPEN_FLAGS);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw unreadable(
      (code !== undefined ? OPEN_FAILURES[code] : undefined) ?? code ?? 'open failed',
    );
  }
  try {
    // Checked on the open file, so what is checked is what is read.
    const stats = await handle.stat();
    if (!stats.isFile()) throw unreadable(notRegular(stats));
    if (stats.size > MAX_CONFIG_FILE_BYTES) throw tooLarge(key, path);
    const buffer = Buffer.alloc(MAX_CONFIG_FILE_BYTES + 1);
    let total = 0;
    for (let n = 1; n > 0; total += n)
      ({ bytesRead: n } = await handle.read(buffer, total, buffer.length - total, null));
    // The buffer holds one byte more than the bound, so a file that grew past it while read is told.
    if (total > MAX_CONFIG_FILE_BYTES) throw tooLarge(key, path);
    return buffer.toString('utf8', 0, total);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw unreadable((err as NodeJS.ErrnoException).code ?? 'read failed');
  } finally {
    await handle.close().catch(() => {});
  }
}

/** Without blocking: a FIFO with no writer would hold the open. */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

const OPEN_FAILURES: Readonly<Record<string, string>> = {
  ENOENT: 'it does not exist',
  EISDIR: 'it is a directory',
  EACCES: 'permission denied',
};

const NOT_REGULAR = [
  ['isFIFO', 'a FIFO'],
  ['isCharacterDevice', 'a character device'],
  ['isBlockDevice', 'a block device'],
  ['isSocket', 'a socket'],
] as const;

function notRegular(stats: Stats): string {
  if (stats.isDirectory()) return 'it is a directory';
  const kind = NOT_REGULAR.find(([is]) => stats[is]())?.[1] ?? 'not a file';
  return `it is ${kind}, not a regular file`;
}

function tooLarge(key: string, path: string): ConfigError {
  return new ConfigError(
    key,
    path,
    `a readable file of at most ${MAX_CONFIG_FILE_BYTES / 1024 / 1024} MiB (it is larger)`,
  );
}

/** Parses config text in a known format; `path` and `key` are only used in error messages. */
export function parseConfigText(
  text: string,
  format: ConfigFormat,
  path: string,
  key: string = KEY,
): unknown {
  // A UTF-8 byte order mark is harmless in an editor and fatal to JSON.parse.
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  let value: unknown;
  try {
    value = PARSERS[format](text, path, key);
  } catch (err) {
    // A parser that recurses per level runs out of stack on a deep enough document.
    if (err instanceof RangeError) throw tooDeep(key, path, format);
    throw err;
  }
  if (depthPast(value, MAX_DEPTH)) throw tooDeep(key, path, format);
  return value;
}

/**
 * The deepest nesting of tables and lists a config file may have. Real files nest a few levels;
 * everything downstream (validation, merging, error wording) recurses per level, so a document
 * thousands of levels deep must stop here, as a ConfigError, not as a stack overflow later.
 */
export const MAX_DEPTH = 32;

function tooDeep(key: string, path: string, format: ConfigFormat): ConfigError {
  return new ConfigError(
    key,
    path,
    `valid ${format.toUpperCase()} nested at most ${MAX_DEPTH} tables or lists deep`,
  );
}

/** Whether `value` nests tables or lists more than `limit` deep; iterative, so any depth is safe to ask about. */
function depthPast(value: unknown, limit: number): boolean {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 0 }];
  while (stack.length > 0) {
    const { value: node, depth } = stack.pop()!;
    if (
      typeof node !== 'object' ||
      node === null ||
      node instanceof Date ||
      ArrayBuffer.isView(node)
    )
      continue;
    if (depth >= limit) return true;
    for (const child of Object.values(node)) stack.push({ value: child, depth: depth + 1 });
  }
  return false;
}

function parseTomlText(text: string, path: string, key: string): unknown {
  try {
    return parseToml(text);
  } catch (err) {
    if (err instanceof TomlError) {
      // "Invalid TOML document: invalid value\n\n<code excerpt>" → "invalid value".
      const reason = firstLine(err.message).replace(/^Invalid TOML document:\s*/, '');
      throw syntaxError(key, path, 'TOML', err.line, err.column, reason);
    }
    throw err;
  }
}

function parseYamlText(text: string, path: string, key: string): unknown {
  // parseDocument collects errors instead of throwing and rejects a second document; warnings
  // (e.g. an unknown tag) are treated as errors too, since this is a strict config format.
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true, logLevel: 'error' });
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem !== undefined) {
    const pos = problem.linePos?.[0];
    // "Map keys must be unique at line 2, column 1:\n\n<excerpt>" → "Map keys must be unique".
    const reason = yamlReason(
      firstLine(problem.message).replace(/ at line \d+, column \d+:?$/, ''),
    );
    if (/call stack/i.test(reason)) throw tooDeep(key, path, 'yaml');
    throw syntaxError(key, path, 'YAML', pos?.line, pos?.col, reason);
  }
  // A key that is a table, a list or an alias would be read as its text (and warned about, the
  // text quoted): refused, so a secret in one is never a key an error names.
  visit(doc, {
    Pair: (_, { key: k }) => {
      if (!isCollection(k) && !isAlias(k)) return;
      const { line, column } = lineColumn(text, k.range?.[0]);
      throw syntaxError(
        key,
        path,
        'YAML',
        line,
        column,
        'a key that is a table, a list or an alias',
      );
    },
  });
  try {
    return doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    // Alias bombs and the like surface here, not as document errors.
    throw syntaxError(key, path, 'YAML', undefined, undefined, yamlReason((err as Error).message));
  }
}

/**
 * A YAML reason without the text it quotes: `Unresolved tag: !x`, `Unresolved alias (…): x`,
 * `Invalid escape sequence \x` name what stands in the document, an unquoted token's start.
 */
const yamlReason = (message: string): string => firstLine(message).replace(/(: | \\).*$/, '');

function parseJsonText(text: string, path: string, key: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    if (!(err instanceof SyntaxError)) throw err;
    // V8: "Expected ',' or '}' after property value in JSON at position 14 (line 3 column 5)".
    const message = firstLine(err.message);
    const lc = /\(line (\d+) column (\d+)\)/.exec(message);
    const at = /at position (\d+)/.exec(message);
    const { line, column } =
      lc !== null
        ? { line: Number(lc[1]), column: Number(lc[2]) }
        : at !== null
          ? lineColumn(text, Number(at[1]))
          : { line: undefined, column: undefined };
    // V8's `Unexpected token 'x', ..."<the text around it>"... is not valid JSON` quotes the
    // document (an unquoted token's first characters): only its first two words are kept.
    const reason = message
      .replace(/ in JSON at position \d+.*$/, '')
      .replace(/ \(line \d+ column \d+\)$/, '')
      .replace(/^(Unexpected token)\b.*$/, '$1');
    throw syntaxError(key, path, 'JSON', line, column, reason);
  }
}

function syntaxError(
  key: string,
  path: string,
  format: string,
  line: number | undefined,
  column: number | undefined,
  reason: string,
): ConfigError {
  const where =
    line === undefined
      ? ''
      : column === undefined
        ? `line ${line}: `
        : `line ${line}, column ${column}: `;
  return new ConfigError(key, path, `valid ${format} (${where}${reason})`);
}

const firstLine = (message: string): string => message.split('\n', 1)[0]!.trim();

/** The line and column (from 1) of `text`'s character at `offset` (undefined: its end). */
function lineColumn(text: string, offset: number | undefined): { line: number; column: number } {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: before.length - before.lastIndexOf('\n') };
}

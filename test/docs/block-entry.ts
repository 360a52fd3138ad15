/**
 * Runs one docs program (argv[2], a file path) and, once its top-level code has finished, says so
 * on fd 3 (the driver's cue to scrape): only in the process the driver started, never in a
 * node:cluster worker, whose fd 3 is its IPC channel. A program that throws exits 1 with its error.
 */
import cluster from 'node:cluster';
import { writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

await import(pathToFileURL(process.argv[2]!).href);
if (cluster.isPrimary) writeSync(3, 'settled\n');

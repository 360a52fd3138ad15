/** When the bin re-runs `serve` with its Node flags (src/cli/node-flags.ts), and with which argv. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { SERVE_NODE_FLAGS, serveReexecArgv } from '../../src/cli/node-flags.ts';

const proc = (argv: string[], execArgv: string[] = []) => ({
  execPath: '/usr/bin/node',
  execArgv,
  argv: ['/usr/bin/node', '/app/bin.js', ...argv],
});

describe('serveReexecArgv', () => {
  it('re-runs serve with the flags first, node flags and arguments kept in order', () => {
    assert.deepEqual(
      serveReexecArgv(proc(['serve', '--listen', ':9464'], ['--enable-source-maps']), {}, true),
      [
        '/usr/bin/node',
        ...SERVE_NODE_FLAGS,
        '--enable-source-maps',
        '/app/bin.js',
        'serve',
        '--listen',
        ':9464',
      ],
    );
    assert.ok(SERVE_NODE_FLAGS.some((f) => /^--max-semi-space-size=\d+$/.test(f)));
  });

  it('leaves other commands, a flag already given and a platform without execve alone', () => {
    assert.equal(serveReexecArgv(proc(['validate']), {}, true), undefined);
    assert.equal(serveReexecArgv(proc([]), {}, true), undefined);
    assert.equal(serveReexecArgv(proc(['serve']), {}, false), undefined);
    // After the re-exec the flag is in execArgv: no second one.
    assert.equal(serveReexecArgv(proc(['serve'], [...SERVE_NODE_FLAGS]), {}, true), undefined);
    assert.equal(
      serveReexecArgv(proc(['serve'], ['--max_semi_space_size=4']), {}, true),
      undefined,
    );
    assert.equal(
      serveReexecArgv(
        proc(['serve']),
        { NODE_OPTIONS: '--trace-warnings --max-semi-space-size=2' },
        true,
      ),
      undefined,
    );
    assert.notEqual(
      serveReexecArgv(proc(['serve']), { NODE_OPTIONS: '--trace-warnings' }, true),
      undefined,
    );
    // The old generation's growth is the operator's to set too.
    assert.ok(SERVE_NODE_FLAGS.some((f) => /^--heap-growing-percent=\d+$/.test(f)));
    assert.equal(
      serveReexecArgv(proc(['serve'], ['--heap-growing-percent=100']), {}, true),
      undefined,
    );
    assert.equal(
      serveReexecArgv(proc(['serve']), { NODE_OPTIONS: '--heap_growing_percent=10' }, true),
      undefined,
    );
  });
});

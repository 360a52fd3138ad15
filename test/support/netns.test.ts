/**
 * Proves the remote-peer harness: a request from the namespace reaches a server bound to the
 * veth's host end and arrives from the peer's address; a server bound to loopback cannot be
 * reached from the peer at all; the harness refuses other destinations; nothing is left behind.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { BlockList } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createRemotePeer, PeerRequestError, peerResources } from './netns.ts';
import type { RemotePeer } from './netns.ts';

/** Every refusal below must come back well inside this (a refused connect is a RST, not a wait). */
const REFUSAL_BUDGET_MS = 2_000;

function listen(host: string, seen: string[]): Promise<Server> {
  const server = createServer((req, res) => {
    seen.push(req.socket.remoteAddress ?? '');
    res.writeHead(200, {
      'content-type': 'text/plain',
      'x-seen-from': req.socket.remoteAddress ?? '',
    });
    res.end(`hello ${req.method} ${req.url} auth=${req.headers.authorization ?? '-'}`);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => resolve(server));
  });
}

function portOf(server: Server): number {
  return (server.address() as AddressInfo).port;
}

function close(server: Server | undefined): Promise<void> {
  return new Promise((resolve) =>
    server === undefined ? resolve() : server.close(() => resolve()),
  );
}

async function refused(peer: RemotePeer, url: string): Promise<{ code: string; ms: number }> {
  const t0 = performance.now();
  const err = await peer.request(url, { timeoutMs: REFUSAL_BUDGET_MS }).then(
    (res) => assert.fail(`${url} answered ${res.status}; expected no connection`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof PeerRequestError, `expected a PeerRequestError, got ${String(err)}`);
  return { code: err.code, ms: performance.now() - t0 };
}

describe('remote peer in a network namespace', { timeout: 30_000 }, () => {
  let peer: RemotePeer;
  let remote: Server | undefined;
  let local: Server | undefined;
  const seenRemote: string[] = [];
  const seenLocal: string[] = [];

  before(async () => {
    peer = await createRemotePeer();
    remote = await listen(peer.hostAddress, seenRemote);
    local = await listen('127.0.0.1', seenLocal);
  });

  after(async () => {
    await close(remote);
    await close(local);
    await peer?.close();
  });

  test('names and addresses', () => {
    assert.match(peer.namespace, new RegExp(`^jm-${process.pid}-\\d+$`));
    assert.ok(peer.hostInterface.length <= 15 && peer.peerInterface.length <= 15);
    assert.match(peer.hostAddress, /^fd00:6a6d:[0-9a-f:]+::1$/);
    assert.match(peer.peerAddress, /^fd00:6a6d:[0-9a-f:]+::2$/);
    const [network, len] = peer.cidr.split('/') as [string, string];
    assert.equal(len, '126');
    const pair = new BlockList();
    pair.addSubnet(network, 126, 'ipv6');
    assert.ok(pair.check(peer.hostAddress, 'ipv6') && pair.check(peer.peerAddress, 'ipv6'));
    const inside = execFileSync('ip', ['-n', peer.namespace, '-j', '-6', 'route', 'show'], {
      encoding: 'utf8',
    });
    const routes = (JSON.parse(inside) as { dst: string }[]).map((r) => r.dst);
    assert.deepEqual(
      routes,
      [peer.cidr],
      'the namespace routes only its /126: no default route out',
    );
  });

  test('a server on the host end sees the request come from the peer address', async () => {
    const res = await peer.request(peer.url(portOf(remote!), '/metrics?x=1'), {
      method: 'GET',
      headers: {
        authorization: 'Bearer  two-spaces',
        'x-forwarded-for': ['203.0.113.9', '127.0.0.1'],
      },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-seen-from'], peer.peerAddress);
    assert.equal(res.body, 'hello GET /metrics?x=1 auth=Bearer  two-spaces');
    assert.deepEqual(seenRemote, [peer.peerAddress]);
  });

  test('HEAD and other methods pass through', async () => {
    const head = await peer.request(peer.url(portOf(remote!)), { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body, '');
    const post = await peer.request(peer.url(portOf(remote!)), { method: 'POST' });
    assert.equal(post.body, 'hello POST / auth=-');
  });

  test('a server bound to 127.0.0.1 is not reachable from the peer', async () => {
    const port = portOf(local!);
    // Through the host end: nothing listens on hostAddress:port, the host answers with a RST.
    const viaHost = await refused(peer, peer.url(port));
    assert.equal(viaHost.code, 'ECONNREFUSED');
    assert.ok(viaHost.ms < REFUSAL_BUDGET_MS, `refusal took ${viaHost.ms} ms`);
    // Through "127.0.0.1" inside the namespace: that is the namespace's own lo, not the host's.
    const viaLo = await refused(peer, `http://127.0.0.1:${port}/`);
    assert.equal(viaLo.code, 'ECONNREFUSED');
    assert.deepEqual(seenLocal, [], 'the loopback server saw nothing');
  });

  test('destinations outside the pair and loopback are refused without sending', async () => {
    for (const url of [
      'http://192.0.2.1/',
      'http://[fd00::1]/',
      'http://example.com/',
      'https://[::1]/',
    ]) {
      const err = await peer.request(url).catch((e: unknown) => e);
      assert.ok(
        err instanceof PeerRequestError && err.code === 'EFORBIDDEN',
        `${url}: ${String(err)}`,
      );
    }
  });

  test('setup is quick', () => {
    // Typically ~30 ms for the namespace and ~60 ms for the agent (a node start) on the dev box.
    assert.ok(peer.timings.namespaceMs < 5_000, JSON.stringify(peer.timings));
    assert.ok(peer.timings.agentMs < 10_000, JSON.stringify(peer.timings));
  });
});

describe('lifecycle', { timeout: 30_000 }, () => {
  test('two peers at once get distinct names and networks; close removes them; close is idempotent', async () => {
    const [a, b] = await Promise.all([createRemotePeer(), createRemotePeer()]);
    try {
      assert.notEqual(a.namespace, b.namespace);
      assert.notEqual(a.cidr, b.cidr);
      const during = peerResources();
      for (const p of [a, b]) {
        assert.ok(during.namespaces.includes(p.namespace));
        assert.ok(during.links.includes(p.hostInterface));
      }
    } finally {
      await a.close();
      await b.close();
    }
    await a.close();
    const left = peerResources();
    for (const p of [a, b]) {
      assert.ok(!left.namespaces.includes(p.namespace), `namespace ${p.namespace} left behind`);
      assert.ok(!left.links.includes(p.hostInterface), `veth ${p.hostInterface} left behind`);
    }
    await assert.rejects(
      a.request(a.url(1)),
      (e: unknown) => e instanceof PeerRequestError && e.code === 'ECLOSED',
    );
  });

  test('a process that exits without close() leaves nothing behind', async () => {
    const script = [
      `import { createRemotePeer } from ${JSON.stringify(new URL('./netns.ts', import.meta.url).href)};`,
      'const peer = await createRemotePeer();',
      'console.log(JSON.stringify({ pid: process.pid, ns: peer.namespace, link: peer.hostInterface }));',
      'process.exit(0);',
    ].join('\n');
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    const child = JSON.parse(out.trim()) as { pid: number; ns: string; link: string };
    const left = peerResources(child.pid);
    assert.deepEqual(left, { namespaces: [], links: [] }, `left behind by pid ${child.pid}`);
  });

  test('nothing of this process is left', () => {
    assert.deepEqual(peerResources(), { namespaces: [], links: [] });
  });
});

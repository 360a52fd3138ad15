import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { AddressSet, LOOPBACK, normalizeIp, parseCidr } from '../../src/common/addresses.ts';
import { clientIp } from '../../src/http/client-ip.ts';

describe('parseCidr', () => {
  const good: [string, string, number][] = [
    ['10.0.0.0/8', '10.0.0.0', 8],
    ['192.168.1.5', '192.168.1.5', 32],
    [' 127.0.0.1/32 ', '127.0.0.1', 32],
    ['::1', '::1', 128],
    ['2001:db8::/32', '2001:db8::', 32],
    ['::ffff:10.0.0.0/104', '10.0.0.0', 8],
    ['::ffff:10.1.2.3', '10.1.2.3', 32],
    ['0.0.0.0/0', '0.0.0.0', 0],
  ];
  for (const [text, address, prefix] of good) {
    it(`reads ${text}`, () => {
      const c = parseCidr(text);
      assert.equal(c?.address, address);
      assert.equal(c?.prefix, prefix);
    });
  }
  for (const text of [
    '',
    'localhost',
    '10.0.0.0/33',
    '::1/129',
    '10.0.0.0/',
    '10.0.0.0/x',
    '10.0.0/8',
    'fe80::1%eth0',
    '1.2.3.4:80',
    '::ffff:10.0.0.0/95',
    '10.0.0.0/-1',
  ]) {
    it(`refuses ${JSON.stringify(text)}`, () => assert.equal(parseCidr(text), undefined));
  }
});

describe('normalizeIp', () => {
  const cases: [string, string | undefined][] = [
    ['127.0.0.1', '127.0.0.1'],
    ['::ffff:127.0.0.1', '127.0.0.1'],
    ['::FFFF:10.0.0.1', '10.0.0.1'],
    ['[::1]:8080', '::1'],
    ['[2001:db8::1]', '2001:db8::1'],
    ['203.0.113.9:51234', '203.0.113.9'],
    ['fe80::1%eth0', 'fe80::1'],
    [' 10.0.0.1 ', '10.0.0.1'],
    ['unknown', undefined],
    ['', undefined],
    ['[::1', undefined],
    ['999.1.1.1', undefined],
  ];
  for (const [input, expected] of cases) {
    it(`${JSON.stringify(input)} → ${String(expected)}`, () =>
      assert.equal(normalizeIp(input), expected));
  }
});

describe('AddressSet', () => {
  it('checks IPv4, IPv6 and IPv4-mapped addresses', () => {
    const set = AddressSet.from(['10.0.0.0/8', '2001:db8::/32']);
    assert.ok(set.has('10.20.30.40'));
    assert.ok(set.has('::ffff:10.20.30.40'));
    assert.ok(set.has('2001:db8::5'));
    assert.ok(!set.has('11.0.0.1'));
    assert.ok(!set.has('2001:db9::1'));
    assert.ok(!set.has(undefined));
    assert.ok(!set.has('junk'));
    assert.deepEqual(set.cidrs, ['10.0.0.0/8', '2001:db8::/32']);
    assert.equal(set.size, 2);
  });

  it('an empty set holds nothing', () => {
    const set = AddressSet.from([]);
    assert.ok(!set.has('127.0.0.1'));
  });

  it('LOOPBACK is 127/8 and ::1, mapped forms included', () => {
    for (const ip of ['127.0.0.1', '127.255.0.9', '::1', '::ffff:127.0.0.1'])
      assert.ok(LOOPBACK.has(ip), ip);
    for (const ip of ['128.0.0.1', '::2', '0.0.0.0', '::']) assert.ok(!LOOPBACK.has(ip), ip);
  });
});

describe('clientIp', () => {
  const proxies = AddressSet.from(['127.0.0.1', '10.0.0.0/8']);

  it('is the peer when no proxy is trusted, whatever X-Forwarded-For says', () => {
    assert.equal(clientIp('203.0.113.9', '127.0.0.1', undefined), '203.0.113.9');
    assert.equal(clientIp('::ffff:203.0.113.9', '127.0.0.1', AddressSet.from([])), '203.0.113.9');
  });

  it('is the peer when the peer is not a trusted proxy (a spoofed header is ignored)', () => {
    assert.equal(clientIp('203.0.113.9', '127.0.0.1', proxies), '203.0.113.9');
  });

  it('is the peer when a trusted proxy forwards nothing', () => {
    assert.equal(clientIp('127.0.0.1', undefined, proxies), '127.0.0.1');
    assert.equal(clientIp('127.0.0.1', '', proxies), '127.0.0.1');
    assert.equal(clientIp('127.0.0.1', ' , ', proxies), '127.0.0.1');
  });

  it('walks right to left past trusted hops to the first untrusted one', () => {
    assert.equal(clientIp('127.0.0.1', '203.0.113.9', proxies), '203.0.113.9');
    // A client-written left hop is not believed: the nearest untrusted hop is the client.
    assert.equal(clientIp('127.0.0.1', '127.0.0.1, 198.51.100.7', proxies), '198.51.100.7');
    assert.equal(
      clientIp('127.0.0.1', '198.51.100.7, 10.1.1.1, 10.2.2.2', proxies),
      '198.51.100.7',
    );
    // Several headers, as Node may join them or pass an array.
    assert.equal(clientIp('127.0.0.1', ['198.51.100.7', '10.1.1.1'], proxies), '198.51.100.7');
  });

  it('gives the leftmost hop when every hop is a trusted proxy', () => {
    assert.equal(clientIp('127.0.0.1', '10.3.3.3, 10.1.1.1', proxies), '10.3.3.3');
  });

  it('fails closed on a hop that is not an address', () => {
    assert.equal(clientIp('127.0.0.1', 'unknown', proxies), undefined);
    assert.equal(clientIp('127.0.0.1', '203.0.113.9, garbage', proxies), undefined);
  });

  it('stops at an untrusted hop before reaching a malformed one', () => {
    assert.equal(clientIp('127.0.0.1', 'garbage, 203.0.113.9', proxies), '203.0.113.9');
  });

  it('strips ports and unmaps IPv4-mapped hops', () => {
    assert.equal(clientIp('::ffff:127.0.0.1', '203.0.113.9:4711', proxies), '203.0.113.9');
    assert.equal(clientIp('127.0.0.1', '[2001:db8::7]:443', proxies), '2001:db8::7');
  });

  it('is undefined without a peer', () => {
    assert.equal(clientIp(undefined, '203.0.113.9', proxies), undefined);
  });
});

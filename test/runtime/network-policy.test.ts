import assert from 'node:assert/strict';
import { isAllowedHost, isRefusedAddress, parseAllowedHosts, urlProblem } from '../../runtime/network-policy';

describe('network policy', () => {
  describe('isRefusedAddress', () => {
    const refused = [
      '127.0.0.1',
      '127.255.255.254',
      '0.0.0.0',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254', // cloud metadata
      '100.64.0.1', // carrier-grade NAT
      '224.0.0.251', // multicast
      '255.255.255.255',
      '198.18.0.1',
      '::',
      '::1',
      '[::1]',
      '::ffff:127.0.0.1', // v4-mapped loopback
      '[::ffff:127.0.0.1]',
      '::ffff:7f00:1', // the same, in hex
      '::ffff:a9fe:a9fe', // v4-mapped metadata address
      '64:ff9b::a9fe:a9fe', // NAT64 of the metadata address
      '2002:7f00:1::', // 6to4 of loopback
      'fd12:3456::1', // unique local
      'fe80::1', // link-local
      'ff02::1', // multicast
      '2001:db8::1', // documentation
      'localhost', // not an address at all
      'example.com',
    ];
    for (const address of refused) {
      it(`refuses ${address}`, () => assert.equal(isRefusedAddress(address), true));
    }
    for (const address of ['8.8.8.8', '93.184.216.34', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) {
      it(`lets ${address} through`, () => assert.equal(isRefusedAddress(address), false));
    }
  });

  describe('WEBHOOK_ALLOWED_HOSTS', () => {
    it('reads hosts with and without ports, IPv6 in brackets, and names bad entries', () => {
      const problems: string[] = [];
      const hosts = parseAllowedHosts(' 127.0.0.1:8080, Hooks.Internal ,[::1]:9000, a/b, ', problems);
      assert.deepEqual(hosts, [
        { host: '127.0.0.1', port: 8080 },
        { host: 'hooks.internal' },
        { host: '[::1]', port: 9000 },
      ]);
      assert.deepEqual(problems, ["WEBHOOK_ALLOWED_HOSTS: 'a/b' must be host or host:port"]);
    });

    it('matches the port only when the entry names one', () => {
      const hosts = parseAllowedHosts('127.0.0.1:8080,hooks.internal', []);
      assert.equal(isAllowedHost(new URL('http://127.0.0.1:8080/x'), hosts), true);
      assert.equal(isAllowedHost(new URL('http://127.0.0.1:8081/x'), hosts), false);
      assert.equal(isAllowedHost(new URL('https://HOOKS.internal/x'), hosts), true);
      assert.equal(isAllowedHost(new URL('http://hooks.internal:1234/x'), hosts), true);
    });
  });

  describe('urlProblem (what a journey may name)', () => {
    it('accepts https to a public host', () => {
      assert.equal(urlProblem('https://hooks.example.com/score', []), undefined);
    });

    it('refuses plain http, credentials and other schemes', () => {
      assert.match(urlProblem('http://hooks.example.com/', []) ?? '', /must be https/);
      assert.match(urlProblem('https://user:pw@hooks.example.com/', []) ?? '', /credentials/);
      assert.match(urlProblem('file:///etc/passwd', []) ?? '', /http\(s\)/);
      assert.match(urlProblem('not a url', []) ?? '', /absolute/);
    });

    it('refuses literal internal addresses in every spelling, and localhost', () => {
      for (const url of [
        'https://127.0.0.1/',
        'https://[::1]/',
        'https://[::ffff:127.0.0.1]:7243/',
        'https://169.254.169.254/latest/meta-data/',
        'https://10.0.0.5:5432/',
        'https://localhost:8233/api/v1/namespaces',
        'https://0x7f000001/', // the URL parser reads it as 127.0.0.1
        'https://2130706433/',
      ]) {
        assert.ok(urlProblem(url, []), url);
      }
    });

    it('lets a listed internal host through, over http too', () => {
      const allowed = parseAllowedHosts('127.0.0.1:9090', []);
      assert.equal(urlProblem('http://127.0.0.1:9090/hook', allowed), undefined);
      assert.ok(urlProblem('http://127.0.0.1:9091/hook', allowed));
    });
  });
});

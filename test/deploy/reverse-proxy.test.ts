/**
 * The reverse-proxy configurations in deploy/ parse: `nginx -t` accepts deploy/nginx/pulp.conf
 * included in an http {} block (with a throwaway certificate in place of the real one), and Caddy
 * adapts and validates deploy/caddy/Caddyfile. Each check also runs on a deliberately broken copy,
 * which must fail, so a check that cannot fail cannot pass. Skips when nginx, openssl or caddy
 * is not installed.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const NGINX_CONF = path.join(ROOT, 'deploy/nginx/pulp.conf');
const CADDYFILE = path.join(ROOT, 'deploy/caddy/Caddyfile');

/** True when `command` is on the PATH (or in /usr/sbin, where Debian puts nginx). */
function has(command: string): boolean {
  const found = spawnSync('sh', ['-c', `command -v ${command} || test -x /usr/sbin/${command}`], { encoding: 'utf8' });
  return found.status === 0;
}

function binary(command: string): string {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim() : `/usr/sbin/${command}`;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): { status: number | null; output: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', env, timeout: 20_000 });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const noNginx = !has('nginx') || !has('openssl');
const noCaddy = !has('caddy');
if (noNginx) console.warn('skipping the nginx configuration test: nginx or openssl is not installed (apt-get install nginx openssl)');
if (noCaddy) console.warn('skipping the Caddy configuration test: caddy is not installed (apt-get install caddy)');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'pulp-proxy-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('deploy/nginx/pulp.conf', () => {
  /** Writes an nginx.conf that includes `site` in http {}, with every path inside the temp dir; runs nginx -t. */
  function nginxTest(name: string, site: string): { status: number | null; output: string } {
    const prefix = path.join(dir, name);
    mkdirSync(prefix, { recursive: true });
    writeFileSync(path.join(prefix, 'pulp.conf'), site);
    writeFileSync(
      path.join(prefix, 'nginx.conf'),
      [
        `pid ${prefix}/nginx.pid;`,
        `error_log ${prefix}/error.log;`,
        'events {}',
        'http {',
        '  access_log off;',
        `  client_body_temp_path ${prefix}/client_body;`,
        `  proxy_temp_path ${prefix}/proxy;`,
        `  fastcgi_temp_path ${prefix}/fastcgi;`,
        `  uwsgi_temp_path ${prefix}/uwsgi;`,
        `  scgi_temp_path ${prefix}/scgi;`,
        `  include ${prefix}/pulp.conf;`,
        '}',
        '',
      ].join('\n'),
    );
    return run(binary('nginx'), ['-t', '-c', `${prefix}/nginx.conf`, '-p', prefix, '-g', `error_log ${prefix}/e.log;`]);
  }

  /** The site file with its certificate paths pointing at a fresh self-signed pair. */
  function siteWithThrowawayCertificate(): string {
    const cert = path.join(dir, 'fullchain.pem');
    const key = path.join(dir, 'privkey.pem');
    const made = run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=pulp.example.com', '-days', '1', '-keyout', key, '-out', cert]);
    expect(made.status, made.output).toBe(0);
    const site = readFileSync(NGINX_CONF, 'utf8');
    expect(site).toContain('/etc/ssl/pulp/fullchain.pem');
    expect(site).toContain('/etc/ssl/pulp/privkey.pem');
    return site.replaceAll('/etc/ssl/pulp/fullchain.pem', cert).replaceAll('/etc/ssl/pulp/privkey.pem', key);
  }

  it.skipIf(noNginx)('passes nginx -t inside an http {} block', () => {
    const result = nginxTest('good', siteWithThrowawayCertificate());
    expect(result.output).toContain('syntax is ok');
    expect(result.status, result.output).toBe(0);
  });

  it('upgrades WebSockets on /ws/ and forwards the client address and scheme', () => {
    const site = readFileSync(NGINX_CONF, 'utf8');
    const ws = site.slice(site.indexOf('location /ws/'));
    expect(ws).toMatch(/proxy_set_header Upgrade\s+\$http_upgrade;/);
    expect(ws).toMatch(/proxy_set_header Connection\s+\$pulp_connection_upgrade;/);
    expect(ws).toMatch(/proxy_read_timeout \d+s;/);
    expect(site).toMatch(/proxy_http_version 1\.1;/);
    expect(site).toMatch(/proxy_set_header X-Forwarded-For\s+\$proxy_add_x_forwarded_for;/);
    expect(site).toMatch(/proxy_set_header X-Forwarded-Proto\s+\$scheme;/);
    const body = /client_max_body_size (\d+)m;/.exec(site);
    expect(Number(body?.[1])).toBeGreaterThanOrEqual(50);
  });

  it.skipIf(noNginx)('fails nginx -t on a copy with a missing semicolon', () => {
    const broken = siteWithThrowawayCertificate().replace('client_max_body_size 55m;', 'client_max_body_size 55m');
    const result = nginxTest('broken', broken);
    expect(result.status).not.toBe(0);
    expect(result.output).not.toContain('syntax is ok');
  });
});

describe('deploy/caddy/Caddyfile', () => {
  /** `caddy adapt --validate` with Caddy's home and data inside the temp dir. */
  function caddyAdapt(file: string): { status: number | null; output: string; json: string } {
    const home = path.join(dir, 'caddy-home');
    const env = { ...process.env, HOME: home, XDG_DATA_HOME: `${home}/data`, XDG_CONFIG_HOME: `${home}/config` };
    const result = spawnSync('caddy', ['adapt', '--config', file, '--adapter', 'caddyfile', '--validate'], { encoding: 'utf8', env, timeout: 20_000 });
    return { status: result.status, output: `${result.stdout}${result.stderr}`, json: result.stdout };
  }

  it.skipIf(noCaddy)('adapts and validates, proxying pulp.example.com to Pulp', () => {
    const result = caddyAdapt(CADDYFILE);
    expect(result.status, result.output).toBe(0);
    const config = JSON.stringify(JSON.parse(result.json));
    expect(config).toContain('"handler":"reverse_proxy"');
    expect(config).toContain('"dial":"127.0.0.1:8000"');
    expect(config).toContain('"pulp.example.com"');
    expect(config).toMatch(/"handler":"request_body","max_size":(\d+)/);
    const maxSize = Number(/"max_size":(\d+)/.exec(config)?.[1]);
    expect(maxSize).toBeGreaterThanOrEqual(50 * 1024 * 1024);
  });

  it.skipIf(noCaddy)('fails on a copy with an unknown directive', () => {
    const broken = path.join(dir, 'Caddyfile.broken');
    writeFileSync(broken, readFileSync(CADDYFILE, 'utf8').replace('reverse_proxy 127.0.0.1:8000', 'reverse_proxy_typo 127.0.0.1:8000'));
    const result = caddyAdapt(broken);
    expect(result.status).not.toBe(0);
  });
});

/**
 * Certificates for TLS tests, made with openssl: a CA, a server certificate for 127.0.0.1 (and
 * `localhost`, and any extra IPs), and a client certificate, all signed by that CA. `rogueCa` is
 * a second CA that signed nothing here, to show a wrong CA is refused.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { execa } from 'execa';

export type TlsFiles = {
  dir: string;
  ca: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  rogueCa: string;
};

async function openssl(args: string[], cwd: string): Promise<void> {
  await execa('openssl', args, { cwd, stdio: 'ignore' });
}

export async function makeCerts(dir: string, opts: { ips?: string[] } = {}): Promise<TlsFiles> {
  mkdirSync(dir, { recursive: true });
  const f = (n: string) => path.join(dir, n);
  const key = (name: string) => openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', f(name)], dir);
  await key('ca.key');
  await openssl(['req', '-x509', '-new', '-key', f('ca.key'), '-days', '2', '-subj', '/CN=cibq test CA', '-out', f('ca.crt')], dir);
  await key('rogue.key');
  await openssl(['req', '-x509', '-new', '-key', f('rogue.key'), '-days', '2', '-subj', '/CN=rogue CA', '-out', f('rogue.crt')], dir);
  const sign = async (name: string, cn: string, ext: string) => {
    await key(`${name}.key`);
    await openssl(['req', '-new', '-key', f(`${name}.key`), '-subj', `/CN=${cn}`, '-out', f(`${name}.csr`)], dir);
    writeFileSync(f(`${name}.ext`), ext);
    await openssl(['x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial',
      '-days', '2', '-extfile', f(`${name}.ext`), '-out', f(`${name}.crt`)], dir);
  };
  const ips = ['127.0.0.1', ...(opts.ips ?? [])].map((ip) => `IP:${ip}`).join(',');
  await sign('server', 'redis', `subjectAltName=DNS:localhost,${ips}\nextendedKeyUsage=serverAuth,clientAuth\n`);
  await sign('client', 'cibq', 'extendedKeyUsage=clientAuth\n');
  return {
    dir,
    ca: f('ca.crt'),
    caKey: f('ca.key'),
    serverCert: f('server.crt'),
    serverKey: f('server.key'),
    clientCert: f('client.crt'),
    clientKey: f('client.key'),
    rogueCa: f('rogue.crt'),
  };
}

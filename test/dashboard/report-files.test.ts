/** Which request paths name a file under report_dir (the HTTP behaviour is in dashboard.test.ts). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { reportFilePath } from '../../src/dashboard/report-files.ts';

describe('reportFilePath', () => {
  const root = '/srv/reports';

  test('maps paths below /reports/ into report_dir, decoding them', () => {
    assert.equal(reportFilePath(root, '/reports/'), root);
    assert.equal(reportFilePath(root, '/reports/index.html'), `${root}/index.html`);
    assert.equal(reportFilePath(root, '/reports/acme/'), `${root}/acme`);
    assert.equal(reportFilePath(root, '/reports/badges/rad%3Az3gq/main.svg'), `${root}/badges/rad:z3gq/main.svg`);
  });

  test('refuses anything that could leave report_dir or show a hidden file', () => {
    for (const p of ['/reports/../etc/passwd', '/reports/%2e%2e/x', '/reports/a/%2E%2E/%2e%2e/x', '/reports/..%2fx',
      '/reports/a//b', '/reports/.git/config', '/reports/a/.tmp', '/reports/%00', '/reports/a%5c..%5cx', '/reports/%E0%A4%A',
      '/other/x', '/reports']) {
      assert.equal(reportFilePath(root, p), null, p);
    }
  });
});

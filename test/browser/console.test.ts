import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TOTP, Secret } from 'otpauth';
import type { Page, Request } from 'playwright-core';
import { pushSeries } from '../../src/client/remote-write.ts';
import { labelsFromRecord } from '../../src/model/labels.ts';
import { createCredential } from '../../src/tenancy/services/credentials.ts';
import { createUser } from '../../src/tenancy/services/users.ts';
import { ensureConsoleBuilt, launchBrowser, type Browser } from './support/browser.ts';
import type { DemoUser } from './support/seed.ts';
import { startStack, type Stack } from './support/stack.ts';

/**
 * The console in a real browser (Debian's Chromium through playwright-core) against a running
 * Irin with demo data: two orgs, simulated servers pushing metrics and logs, probed websites.
 * The tests run in order and share one browser; each saves screenshots under
 * test-artifacts/screenshots/.
 */

let stack: Stack;
let browser: Browser;
let page: Page;

const url = (path: string) => `${stack.url}/console${path}`;

async function signIn(user: DemoUser, code?: () => string): Promise<void> {
  await browser.context.clearCookies();
  await page.goto(url('/'));
  await page.getByLabel('Email').fill(user.email);
  await page.getByLabel('Password').fill(user.password);
  await page.getByRole('button', { name: 'Continue' }).click();
  if (code) {
    await page.getByLabel('Authentication code').fill(code());
    await page.getByRole('button', { name: 'Verify' }).click();
  }
  await page.locator('nav[aria-label="Main"]').waitFor();
}

/** Calls Irin from inside the page with its session (and CSRF token), as the console's own code would. */
async function callAsPage(method: string, path: string, body?: unknown): Promise<number> {
  return page.evaluate(
    async ({ method, path, body }) => {
      const me = (await (await fetch('/api/console/me')).json()) as { csrfToken: string };
      const res = await fetch(path, {
        method,
        headers: {
          'x-csrf-token': me.csrfToken,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      return res.status;
    },
    { method, path, body },
  );
}

async function promQuery(
  query: string,
  time: string,
): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
  const res = await page.request.post(`${stack.url}/prometheus/api/v1/query`, { form: { query, time } });
  assert.equal(res.status(), 200, await res.text());
  return (await res.json()).data.result;
}

function closeTo(actual: number, expected: number, what: string): void {
  const tolerance = Math.max(1e-9, Math.abs(expected) * 1e-12);
  assert.ok(
    Math.abs(actual - expected) <= tolerance,
    `${what}: console shows ${actual}, PromQL gives ${expected}`,
  );
}

describe('console in a browser', () => {
  before(async () => {
    ensureConsoleBuilt();
    stack = await startStack();
    browser = await launchBrowser();
    page = browser.page;
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  test('sign-in with password and TOTP', async () => {
    const { owner } = stack.demo.users;
    await browser.context.clearCookies();
    await page.goto(url('/'));
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await browser.screenshot('01-sign-in');
    await page.getByLabel('Email').fill(owner.email);
    await page.getByLabel('Password').fill(owner.password);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Two-factor authentication' }).waitFor();
    await page.getByLabel('Authentication code').fill('000000');
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('alert').filter({ hasText: 'invalid code' }).waitFor();
    await browser.screenshot('02-sign-in-totp');
    await page.getByLabel('Authentication code').fill(stack.demo.totp(owner));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'System health' }).waitFor();
    const cookies = await browser.context.cookies();
    const session = cookies.find((c) => c.name === 'irin_session');
    assert.ok(session, 'session cookie set');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.doesNotMatch(
      String(await page.evaluate('document.cookie')),
      /irin_session/,
      'not readable by script',
    );
  });

  test('the first dashboard renders quickly and its figures equal the PromQL results', async () => {
    // Three loads of the overview; the median time is logged (about 0.8 s with the server in its
    // own process on an idle machine). Asserted: no request waterfall — one query for every gauge
    // of every server, four data requests in all — and a bound that only catches pathologies,
    // since this machine also runs the server, the prober and the simulated agents.
    const loads: number[] = [];
    let request: Request | undefined;
    for (let k = 0; k < 3; k++) {
      const seen: string[] = [];
      const track = (r: Request) => {
        const path = new URL(r.url()).pathname;
        if (/^\/(api|prometheus|loki)\//.test(path)) seen.push(path);
      };
      page.on('request', track);
      const queried = page.waitForRequest(
        (r) => r.url().endsWith('/prometheus/api/v1/query') && (r.postData() ?? '').includes('irin_panel'),
      );
      const started = Date.now();
      await page.goto(url('/'));
      request = await queried;
      for (const name of ['acme-web-1', 'acme-db-1']) {
        await page
          .locator(
            `article[data-instance="${name}"] [role="meter"][aria-label="CPU busy"][data-value]:not([data-value=""])`,
          )
          .waitFor();
      }
      loads.push(Date.now() - started);
      await page.getByRole('img', { name: 'CPU busy per server over time' }).waitFor();
      page.off('request', track);
      assert.deepEqual(
        [...seen].sort(),
        [
          '/api/console/me',
          '/api/console/servers',
          '/prometheus/api/v1/query',
          '/prometheus/api/v1/query_range',
        ],
        'the overview makes four data requests',
      );
    }
    const median = [...loads].sort((a, b) => a - b)[1]!;
    console.log(`overview rendered in ${loads.join(', ')} ms (median ${median} ms)`);
    assert.ok(median < 5000, `the overview took ${median} ms`);
    await browser.screenshot('03-system-health', { fullPage: true });

    const time = new URLSearchParams(request!.postData()!).get('time')!;
    for (const name of ['acme-web-1', 'acme-db-1']) {
      const card = page.locator(`article[data-instance="${name}"]`);
      const shown = async (selector: string) =>
        Number(await card.locator(selector).getAttribute('data-value'));
      const one = async (q: string) => {
        const r = await promQuery(q, time);
        assert.equal(r.length, 1, `${q} gives one value`);
        return parseFloat(r[0]!.value[1]);
      };
      const i = `instance="${name}"`;
      const fsRoot = `${i},mountpoint="/",fstype!="rootfs"`;
      // The reference expressions of the common node dashboards (shared/reference/dashboards.md).
      closeTo(
        await shown('[aria-label="CPU busy"]'),
        await one(`100 * (1 - avg(rate(node_cpu_seconds_total{${i},mode="idle"}[5m])))`),
        `${name} CPU`,
      );
      closeTo(
        await shown('[aria-label="Memory used"]'),
        await one(
          `clamp_min((1 - node_memory_MemAvailable_bytes{${i}} / node_memory_MemTotal_bytes{${i}}) * 100, 0)`,
        ),
        `${name} memory`,
      );
      closeTo(
        await shown('[aria-label="Root FS used"]'),
        await one(
          `100 * (node_filesystem_size_bytes{${fsRoot}} - node_filesystem_avail_bytes{${fsRoot}}) / node_filesystem_size_bytes{${fsRoot}}`,
        ),
        `${name} root fs`,
      );
      closeTo(
        await shown('[aria-label="Swap used"]'),
        await one(
          `(node_memory_SwapTotal_bytes{${i}} > bool 0) * ((node_memory_SwapTotal_bytes{${i}} - node_memory_SwapFree_bytes{${i}}) / node_memory_SwapTotal_bytes{${i}}) * 100`,
        ),
        `${name} swap`,
      );
      closeTo(
        await shown('[aria-label="Load (1m)"]'),
        await one(`scalar(node_load1{${i}}) * 100 / count(count by (cpu) (node_cpu_seconds_total{${i}}))`),
        `${name} load per core`,
      );
      closeTo(
        await shown('[data-field="uptime"]'),
        await one(`node_time_seconds{${i}} - node_boot_time_seconds{${i}}`),
        `${name} uptime`,
      );
      const perDevice = await promQuery(
        `sum by (device) (rate(node_network_receive_bytes_total{${i},device!~"lo|veth.+"}[5m])) * 8`,
        time,
      );
      closeTo(
        await shown('[data-field="rx"]'),
        perDevice.reduce((s, r) => s + parseFloat(r.value[1]), 0),
        `${name} network in`,
      );
      const fs = await promQuery(
        `100 * (1 - node_filesystem_avail_bytes{${i},fstype!~"rootfs|tmpfs|ramfs",mountpoint!=""} / node_filesystem_size_bytes{${i},fstype!~"rootfs|tmpfs|ramfs",mountpoint!=""})`,
        time,
      );
      const bars = await card
        .locator('.fs-pct')
        .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-value'))));
      assert.deepEqual([...bars].sort(), fs.map((r) => parseFloat(r.value[1])).sort(), `${name} filesystems`);
    }
  });

  test('endpoint status, logs and explore pages', async () => {
    const shop = stack.demo.endpoints.shop!;
    await page.goto(url('/endpoints'));
    await page.locator('tr[data-endpoint="billing"]').getByText('down').waitFor();
    await browser.screenshot('04-endpoints');
    await page.goto(url(`/endpoints/${shop.id}`));
    await page.getByRole('list', { name: /Uptime per day/ }).waitFor();
    const cells = page.locator('.calendar li');
    assert.equal(await cells.count(), 90);
    assert.ok(
      (await page.locator('.calendar li[data-status="no_data"]').count()) >= 59,
      'days before the history are grey',
    );
    // Two outages (3 h and 40 min) in the history: their days are not green.
    const bad =
      (await page.locator('.calendar li[data-status="down"]').count()) +
      (await page.locator('.calendar li[data-status="degraded"]').count());
    assert.ok(bad >= 2 && bad <= 3, `${bad} days with downtime`);
    await page.getByText('status 502, expected 2xx').waitFor();
    // The self-signed certificate expires in 10 days: a warning (under 14 days).
    await page
      .locator('.tile .badge-warn')
      .filter({ hasText: /^(9|10) days$/ })
      .waitFor();
    await browser.screenshot('05-endpoint-detail', { fullPage: true });

    await page.goto(url('/logs'));
    await page.getByRole('list', { name: 'Log lines' }).locator('li').first().waitFor();
    await page.getByLabel('Line contains').fill('deadlock');
    await page.getByRole('button', { name: 'Run query' }).click();
    await page
      .getByRole('list', { name: 'Log lines' })
      .locator('li')
      .first()
      .getByText(/deadlock detected/)
      .waitFor();
    const lines = await page.getByRole('list', { name: 'Log lines' }).locator('.log-line').allTextContents();
    assert.ok(lines.length > 0 && lines.every((l) => l.includes('deadlock')), 'the line filter applies');
    await page.getByRole('list', { name: 'Log lines' }).locator('button.log-summary').first().click();
    await page.locator('.log-detail').getByText('postgresql').first().waitFor();
    await browser.screenshot('06-logs');

    // Live tail (Loki's tail WebSocket, authenticated by the session cookie) with the same filter.
    await page.getByRole('button', { name: /Live tail/ }).click();
    await page.getByRole('heading', { name: /Live tail/ }).waitFor();
    await page.waitForTimeout(500);
    const pusher = await createCredential(stack.demo.services, 'push', 'acme', { name: 'tail-test' });
    const marker = `deadlock seen live ${Date.now()}`;
    const pushed = await fetch(`${stack.url}/loki/api/v1/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${pusher.token}` },
      body: JSON.stringify({
        streams: [
          {
            stream: { job: 'tail-test' },
            values: [
              [`${Date.now()}000000`, `ignored line`],
              [`${Date.now()}000001`, marker],
            ],
          },
        ],
      }),
    });
    assert.equal(pushed.status, 204);
    await page.getByRole('list', { name: 'Log lines' }).getByText(marker).waitFor();
    assert.equal(await page.getByRole('list', { name: 'Log lines' }).getByText('ignored line').count(), 0);
    await browser.screenshot('06b-logs-live-tail');
    await page.getByRole('button', { name: /Stop live tail/ }).click();

    await page.goto(url('/explore'));
    await page.locator('.cm-content').click();
    await page.keyboard.type('node_load');
    await page.locator('.cm-tooltip-autocomplete').getByText('node_load15').waitFor();
    await page.keyboard.press('Escape');
    await page.keyboard.type('1');
    await page.keyboard.press('Enter');
    await page.locator('.chart .uplot').waitFor();
    await page.getByRole('tab', { name: 'Table' }).click();
    const rows = page.getByRole('table', { name: 'Query result' }).locator('tbody tr');
    await rows.first().waitFor();
    assert.equal(await rows.count(), 2, 'one node_load1 series per acme server');
    await browser.screenshot('07-explore');
  });

  test('onboarding: a new server gets a working server-bound token; an API key reads', async () => {
    await page.goto(url('/manage/servers'));
    await page.getByRole('button', { name: '+ Add server' }).click();
    await page.getByLabel('Server name').fill('acme-new-1');
    await page.getByRole('button', { name: 'Add server and create token' }).click();
    await page.getByRole('heading', { name: 'Server acme-new-1 added' }).waitFor();
    await browser.screenshot('08-add-server-token');
    await page.getByRole('tab', { name: 'Raw settings' }).click();
    const field = (label: string) => page.getByRole('textbox', { name: label, exact: true }).inputValue();
    const writeUrl = await field('Remote write URL');
    const clientId = await field('Client id (basic-auth user, CF-Access-Client-Id)');
    const secret = await field('Secret (basic-auth password, CF-Access-Client-Secret)');
    assert.equal(writeUrl, `${stack.url}/api/v1/write`);

    const t = Date.now();
    const pushed = await pushSeries(
      writeUrl,
      [
        {
          labels: labelsFromRecord({
            __name__: 'irin_onboarding_probe',
            job: 'manual',
            instance: 'someone-else',
          }),
          samples: [{ t, v: 42 }],
        },
      ],
      { kind: 'basic', username: clientId, password: secret },
    );
    assert.equal(pushed.status, 204, pushed.body);
    const got = await promQuery('irin_onboarding_probe', String(t / 1000));
    assert.equal(got.length, 1);
    assert.equal(got[0]!.metric.instance, 'acme-new-1', 'the server-bound token pins the instance label');
    assert.equal(got[0]!.metric.tenant, 'acme');
    await page.getByRole('button', { name: 'Done' }).click();

    // The push marks the server as seen (last-used times are written every few seconds).
    await page.reload();
    const row = page.locator('tr[data-server="acme-new-1"]');
    for (let i = 0; i < 20 && !(await row.getByText('up', { exact: true }).isVisible()); i++) {
      await page.waitForTimeout(500);
      await page.reload();
    }
    await row.getByText('up', { exact: true }).waitFor();
    await browser.screenshot('09-servers');

    await page.goto(url('/manage/api-keys'));
    await page.getByRole('button', { name: '+ New API key' }).click();
    await page.getByLabel('Name', { exact: true }).fill('grafana');
    await page.getByRole('button', { name: 'Create key' }).click();
    await page.getByRole('heading', { name: 'API key created' }).waitFor();
    await browser.screenshot('10-api-key');
    const user = await field('Basic auth user');
    const password = await field('Basic auth password');
    const promUrl = await field('Prometheus data source URL');
    const res = await fetch(
      `${promUrl}/api/v1/query?query=${encodeURIComponent('count by (tenant) (node_load1)')}`,
      {
        headers: { authorization: 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64') },
      },
    );
    assert.equal(res.status, 200);
    const body = (await res.json()) as { data: { result: { metric: { tenant: string } }[] } };
    assert.deepEqual(
      body.data.result.map((r) => r.metric.tenant),
      ['acme'],
    );
    await page.getByRole('button', { name: 'Done' }).click();
  });

  test('a member of org B never sees org A: navigation, direct URLs and API calls all 404', async () => {
    const { bob } = stack.demo.users;
    const { acme } = stack.demo.orgs;
    const shop = stack.demo.endpoints.shop!;
    const acmeServer = stack.demo.servers['acme-web-1']!;
    const acmeKey = await createCredential(stack.demo.services, 'read', 'acme', { name: 'acme-only' });
    await signIn(bob, () => stack.demo.totp(bob));

    const nav = await page.locator('nav[aria-label="Main"]').innerText();
    assert.match(nav, /Globex Corporation/);
    assert.doesNotMatch(nav, /Acme/i);
    await page.getByRole('heading', { name: 'System health' }).waitFor();
    await page.locator('article[data-instance="globex-app-1"]').waitFor();
    assert.equal(await page.locator('article[data-instance^="acme"]').count(), 0);
    await browser.screenshot('11-org-b-overview');

    await page.goto(url(`/endpoints/${shop.id}`));
    await page.getByRole('heading', { name: 'Not found' }).waitFor();
    await browser.screenshot('12-org-b-direct-url');
    await page.goto(url('/servers/acme-web-1'));
    await page.getByText('No current metrics for acme-web-1').waitFor();
    await page.goto(url('/admin/tenants'));
    await page.getByRole('heading', { name: 'Not found' }).waitFor();

    const calls: [string, string, unknown?][] = [
      ['GET', `/api/v1/endpoints/${shop.id}/status`],
      ['GET', `/api/v1/endpoints/${shop.id}/calendar?days=30`],
      ['GET', `/api/v1/endpoints/${shop.id}/incidents`],
      ['GET', `/api/console/servers/${acmeServer.id}`],
      ['DELETE', `/api/console/servers/${acmeServer.id}`],
      ['POST', `/api/console/servers/${acmeServer.id}/tokens`, {}],
      ['PUT', `/api/console/endpoints/${shop.id}`, { enabled: false }],
      ['DELETE', `/api/console/endpoints/${shop.id}`],
      ['DELETE', `/api/console/api-keys/${acmeKey.credential.clientId}`],
      ['POST', '/api/console/org', { orgId: acme.id }],
      ['GET', '/api/console/platform/tenants'],
    ];
    for (const [method, path, body] of calls) {
      assert.equal(await callAsPage(method, path, body), 404, `${method} ${path}`);
    }
    const series = await promQuery(
      'group by (tenant, instance) ({__name__=~"node_load1|probe_success"})',
      String(Date.now() / 1000),
    );
    assert.ok(series.length > 0);
    assert.deepEqual([...new Set(series.map((s) => s.metric.tenant))], ['globex']);
    const labels = await page.request.get(`${stack.url}/loki/api/v1/label/instance/values`);
    assert.deepEqual((await labels.json()).data, ['globex-app-1']);
    // Still there for acme.
    assert.equal((await stack.demo.plane.store.listEndpoints(acme.id)).length, 3);
  });

  test('enrolment: a platform admin without MFA sets it up at first sign-in', async () => {
    await createUser(stack.demo.services, {
      email: 'root@irin.test',
      password: 'root password 1234',
      platformAdmin: true,
    });
    await browser.context.clearCookies();
    await page.goto(url('/'));
    await page.getByLabel('Email').fill('root@irin.test');
    await page.getByLabel('Password').fill('root password 1234');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Set up two-factor authentication' }).waitFor();
    await page.getByRole('img', { name: /QR code/ }).waitFor();
    await browser.screenshot('13-enrolment');
    const secret = await page.getByRole('textbox', { name: 'Or enter this key manually' }).inputValue();
    const code = new TOTP({ secret: Secret.fromBase32(secret) }).generate();
    await page.getByLabel('Code from the app').fill(code);
    await page.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
    const codes = page.getByRole('list', { name: 'Recovery codes' }).locator('li');
    await codes.first().waitFor();
    assert.equal(await codes.count(), 10);
    await browser.screenshot('14-recovery-codes');
    await page.getByRole('button', { name: /I have saved them/ }).click();
    await page.getByRole('link', { name: 'Tenants', exact: true }).click();
    await page.locator('tr[data-tenant="globex"]').waitFor();
    await browser.screenshot('15-platform-tenants');
    await page.getByRole('link', { name: 'Tokens & keys' }).click();
    await page.getByRole('cell', { name: 'globex' }).first().waitFor();
    await browser.screenshot('16-platform-tokens');
  });

  test('security headers: strict CSP, no framing, no sniffing; no CSP violation in any page', async () => {
    const res = await page.request.get(url('/'));
    const h = res.headers();
    const csp = h['content-security-policy'] ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/, 'no inline script allowed');
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /object-src 'none'/);
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    assert.ok(nonce, 'a style nonce');
    assert.ok((await res.text()).includes(`nonce="${nonce}"`), 'the page carries the same nonce');
    assert.equal(h['x-content-type-options'], 'nosniff');
    assert.equal(h['x-frame-options'], 'DENY');
    assert.equal(h['referrer-policy'], 'no-referrer');
    const again = (await page.request.get(url('/'))).headers()['content-security-policy'];
    assert.notEqual(again, csp, 'a fresh nonce per response');

    const api = (await page.request.get(`${stack.url}/api/console/me`)).headers();
    assert.equal(api['x-content-type-options'], 'nosniff');
    assert.match(api['content-security-policy'] ?? '', /default-src 'none'.*frame-ancestors 'none'/);
    assert.equal(api['cache-control'], 'no-store');

    // A page on another origin cannot frame the console.
    const framer = await browser.context.newPage();
    await framer.setContent(`<iframe id="f" src="${url('/')}" width="400" height="300"></iframe>`);
    await framer.waitForTimeout(800);
    const framed = framer.frames().find((f) => f.url().startsWith(stack.url));
    const rendered = framed
      ? await framed
          .locator('#root')
          .count()
          .catch(() => 0)
      : 0;
    assert.equal(rendered, 0, 'the console must not render inside a frame');
    await framer.close();

    assert.deepEqual(browser.problems, [], 'no CSP violations or script errors while using the console');
  });
});

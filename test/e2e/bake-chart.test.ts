import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { startSampleApp } from '../../examples/demo/sample-app/server.js';
import { parseConfig } from '../../functions/shared/config/load.js';
import type { Logger } from '../../functions/shared/ports/index.js';
import { approvalLinksIn, decideThroughPage } from '../../local/approve-link.js';
import { embeddedTracker, type LocalRuntime, startLocalRuntime } from '../../local/runtime.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(
    `⚠️  NOT RUN: the bake chart test needs Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
  );
}
const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

const waitFor = async <T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 60_000,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
};

(hasChromium ? describe : describe.skip)('the console charts the bake in Chromium', () => {
  let browser: Browser;
  let runtime: LocalRuntime;
  let app: Awaited<ReturnType<typeof startSampleApp>>;

  beforeAll(async () => {
    app = await startSampleApp({ port: 0 });
    const yaml = readFileSync(join(ROOT, 'examples/demo/devops-agent.yaml'), 'utf8').replaceAll(
      '127.0.0.1:4100',
      `127.0.0.1:${app.port}`,
    );
    const config = parseConfig(yaml, 'demo.yaml');
    const service = config.services[0];
    if (service) service.monitoring.period = 90;
    runtime = await startLocalRuntime({
      config,
      asl: JSON.parse(readFileSync(join(ROOT, 'statemachine/deploy-pipeline.asl.json'), 'utf8')) as Record<
        string,
        unknown
      >,
      dataDir: mkdtempSync(join(tmpdir(), 'devops-agent-bake-chart-')),
      baseDir: ROOT,
      sourceControlFixture: join(ROOT, 'examples/demo/fixtures/source-control.json'),
      logger: quiet,
      retryIntervalMs: 100,
      lockRetryMs: 100,
    });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await runtime?.stop();
    await app?.close();
  });

  it('draws the bad release: error rate and p99 with their thresholds, the breach, the rollback start and the reason', async () => {
    // Prepare
    const task = await embeddedTracker(runtime).createTask({
      name: 'User Notifications',
      listId: 'demo-list',
      status: 'Ready to Deploy',
      customFields: {
        PR: '42',
        Repository: 'acme/notifications',
        'Security Review': 'Approved',
        QA: 'Approved',
        Release: 'v2-bad',
      },
    });
    await runtime.poll();
    const mail = await waitFor('the approval mail', async () => (await runtime.outbox.list())[0]);
    const [link = ''] = approvalLinksIn(mail);
    await decideThroughPage(link, 'approve');
    const phone = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true });
    const page = await phone.newPage();
    const hosts = new Set<string>();
    page.on('request', (r) => hosts.add(new URL(r.url()).host));

    // Act
    await page.goto(runtime.url);
    await page.waitForSelector('#bakes figure.bake svg[data-chart=errorRate]', { timeout: 90_000 });
    const [deployment] = await runtime.store.listDeployments({ taskId: task.id });
    await runtime.workflow.execution(deployment?.deploymentId ?? '')?.done;
    await page.waitForSelector('#bakes figure.bake .status.rolled-back', { timeout: 30_000 });
    const record = await runtime.store.getDeployment(deployment?.deploymentId ?? '');
    const figure = page.locator(`#bakes figure[data-deployment="${record?.deploymentId}"]`);
    const errorChart = figure.locator('svg[data-chart=errorRate]');
    const p99Chart = figure.locator('svg[data-chart=p99Ms]');
    const drawn = {
      errorTitle: await errorChart.locator('title').first().textContent(),
      errorLabelledBy: await errorChart.getAttribute('aria-labelledby'),
      errorLine: await errorChart.locator('polyline.series').count(),
      thresholds: [
        await errorChart.locator('line.threshold').count(),
        await p99Chart.locator('line.threshold').count(),
      ],
      thresholdLabels: [
        await errorChart.locator('.threshold-label').textContent(),
        await p99Chart.locator('.threshold-label').textContent(),
      ],
      dashed: await page.evaluate<string>(
        "getComputedStyle(document.querySelector('#bakes svg[data-chart=errorRate] line.threshold')).strokeDasharray",
      ),
      rollbackLines: [
        await errorChart.locator('line.rollback').count(),
        await p99Chart.locator('line.rollback').count(),
      ],
      rollbackLabel: await errorChart.locator('.rollback-label').textContent(),
      breachAreas: await figure.locator('rect.breach-area').count(),
      healthFailures: await figure.locator('svg[data-chart=health] rect.failed').count(),
      reason: await figure.locator('.reason').textContent(),
      fitsPhone: await page.evaluate<boolean>('document.documentElement.scrollWidth <= window.innerWidth'),
    };

    // Assess
    expect(record?.status).toBe('rolled-back');
    expect(record?.monitoring?.firstBreachAt).toBeDefined();
    expect(record?.rollback?.startedAt).toBeDefined();
    expect(drawn).toEqual({
      errorTitle: `Error rate during the bake of ${record?.deploymentId}`,
      errorLabelledBy: expect.stringContaining('-errorRate-t'),
      errorLine: 1,
      thresholds: [1, 1],
      thresholdLabels: ['threshold 1.0 %', 'threshold 1000 ms'],
      dashed: expect.stringMatching(/\d/),
      rollbackLines: [1, 1],
      rollbackLabel: 'rollback started',
      breachAreas: 2,
      healthFailures: expect.any(Number),
      reason: expect.stringContaining(record?.monitoring?.breach ?? '(no breach recorded)'),
      fitsPhone: true,
    });
    expect(drawn.reason).toMatch(/after the first breaching datapoint/);
    expect([...hosts]).toEqual([new URL(runtime.url).host]);
    await phone.close();
  }, 180_000);
});

import { approvalLinksIn, decideThroughPage } from '../../local/approve-link.js';
import { type BrowserDemo, chromiumOr, startBrowserDemo, waitFor } from './browser-fixture.js';

const hasChromium = chromiumOr('the bake chart test');

(hasChromium ? describe : describe.skip)('the console charts the bake in Chromium', () => {
  let demo: BrowserDemo;

  beforeAll(async () => {
    demo = await startBrowserDemo(90);
  });

  afterAll(async () => {
    await demo?.stop();
  });

  it('draws the bad release: error rate and p99 with their thresholds, the breach, the rollback start and the reason', async () => {
    // Prepare
    const task = await demo.createTask('v2-bad');
    await demo.runtime.poll();
    const mail = await waitFor('the approval mail', async () => (await demo.runtime.outbox.list())[0]);
    const [link = ''] = approvalLinksIn(mail);
    await decideThroughPage(link, 'approve');
    const phone = await demo.browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true });
    const page = await phone.newPage();
    const hosts = new Set<string>();
    page.on('request', (r) => hosts.add(new URL(r.url()).host));

    // Act
    await page.goto(demo.runtime.url);
    await page.waitForSelector('#bakes figure.bake svg[data-chart=errorRate]', { timeout: 90_000 });
    const [deployment] = await demo.runtime.store.listDeployments({ taskId: task.id });
    await demo.runtime.workflow.execution(deployment?.deploymentId ?? '')?.done;
    await page.waitForSelector('#bakes figure.bake .status.rolled-back', { timeout: 30_000 });
    const record = await demo.runtime.store.getDeployment(deployment?.deploymentId ?? '');
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
    expect([...hosts]).toEqual([new URL(demo.runtime.url).host]);
    await phone.close();
  }, 180_000);
});

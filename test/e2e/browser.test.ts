import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { startSampleApp } from '../../examples/demo/sample-app/server.js';
import { parseConfig } from '../../functions/shared/config/load.js';
import type { Logger } from '../../functions/shared/ports/index.js';
import { approvalLinksIn } from '../../local/approve-link.js';
import { embeddedTracker, type LocalRuntime, startLocalRuntime } from '../../local/runtime.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(
    `⚠️  NOT RUN: the browser tests need Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
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

(hasChromium ? describe : describe.skip)('approval page and console in Chromium', () => {
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
    if (service) service.monitoring.period = 3;
    runtime = await startLocalRuntime({
      config,
      asl: JSON.parse(readFileSync(join(ROOT, 'statemachine/deploy-pipeline.asl.json'), 'utf8')) as Record<
        string,
        unknown
      >,
      dataDir: mkdtempSync(join(tmpdir(), 'devops-agent-browser-')),
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

  it('approves through the emailed link, a second browser sees "already approved", and the console shows the deployment', async () => {
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
        Release: 'v2',
      },
    });
    await runtime.poll();
    const mail = await waitFor('the approval mail', async () => (await runtime.outbox.list())[0]);
    const [link = ''] = approvalLinksIn(mail);
    const phone = await browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true });
    const page = await phone.newPage();
    const hosts = new Set<string>();
    page.on('request', (r) => hosts.add(new URL(r.url()).host));

    // Act
    await page.goto(link);
    const title = await page.textContent('h1');
    const hash = await page.textContent('[data-testid=plan-hash]');
    const planShown = await page.isVisible('text=## Rollback Plan');
    const fitsPhone = await page.evaluate<boolean>(
      'document.documentElement.scrollWidth <= window.innerWidth',
    );
    await page.click('button[value=approve]');
    const notice = await page.textContent('.notice');
    const other = await browser.newContext();
    const second = await other.newPage();
    await second.goto(link);
    const afterwards = await second.textContent('.closed');
    const formsLeft = await second.locator('form').count();
    const [deployment] = await runtime.store.listDeployments({ taskId: task.id });
    const execution = runtime.workflow.execution(deployment?.deploymentId ?? '');
    await execution?.done;
    await second.goto(runtime.url);
    await second.waitForSelector(`#deployments td.status.deployed`);
    const consoleRow = await second.textContent('#deployments tbody tr');
    const comments = await second.textContent('#tasks');

    // Assess
    expect(link).toMatch(/\/approvals\/[A-Za-z0-9_-]+\?t=v1\./);
    expect(title).toBe('Approve deployment: User Notifications');
    expect(hash).toBe(deployment?.plan?.hash);
    expect(planShown).toBe(true);
    expect(fitsPhone).toBe(true);
    expect([...hosts]).toEqual([new URL(runtime.url).host]);
    expect(notice).toBe(`Recorded: approved by ${mail.to[0]}.`);
    expect(afterwards).toContain(`Already approved by ${mail.to[0]}`);
    expect(formsLeft).toBe(0);
    expect(execution?.status).toBe('SUCCEEDED');
    expect(consoleRow).toContain(deployment?.deploymentId);
    expect(comments).toContain('DEPLOYED TO PRODUCTION');
    expect(app.version()).toBe('v2');
    await phone.close();
    await other.close();
  }, 120_000);
});

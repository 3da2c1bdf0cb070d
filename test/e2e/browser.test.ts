import { approvalLinksIn } from '../../local/approve-link.js';
import { type BrowserDemo, chromiumOr, startBrowserDemo, waitFor } from './browser-fixture.js';

const hasChromium = chromiumOr('browser tests');

(hasChromium ? describe : describe.skip)('approval page and console in Chromium', () => {
  let demo: BrowserDemo;

  beforeAll(async () => {
    demo = await startBrowserDemo(3);
  });

  afterAll(async () => {
    await demo?.stop();
  });

  it('approves through the emailed link, a second browser sees "already approved", and the console shows the deployment', async () => {
    // Prepare
    const task = await demo.createTask('v2');
    await demo.runtime.poll();
    const mail = await waitFor('the approval mail', async () => (await demo.runtime.outbox.list())[0]);
    const [link = ''] = approvalLinksIn(mail);
    const phone = await demo.browser.newContext({ viewport: { width: 360, height: 740 }, isMobile: true });
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
    const other = await demo.browser.newContext();
    const second = await other.newPage();
    await second.goto(link);
    const afterwards = await second.textContent('.closed');
    const formsLeft = await second.locator('form').count();
    const [deployment] = await demo.runtime.store.listDeployments({ taskId: task.id });
    const execution = demo.runtime.workflow.execution(deployment?.deploymentId ?? '');
    await execution?.done;
    await second.goto(demo.runtime.url);
    await second.waitForSelector(`#deployments td.status.deployed`);
    const consoleRow = await second.textContent('#deployments tbody tr');
    const comments = await second.textContent('#tasks');

    // Assess
    expect(link).toMatch(/\/approvals\/[A-Za-z0-9_-]+\?t=v1\./);
    expect(title).toBe('Approve deployment: User Notifications');
    expect(hash).toBe(deployment?.plan?.hash);
    expect(planShown).toBe(true);
    expect(fitsPhone).toBe(true);
    expect([...hosts]).toEqual([new URL(demo.runtime.url).host]);
    expect(notice).toBe(`Recorded: approved by ${mail.to[0]}.`);
    expect(afterwards).toContain(`Already approved by ${mail.to[0]}`);
    expect(formsLeft).toBe(0);
    expect(execution?.status).toBe('SUCCEEDED');
    expect(consoleRow).toContain(deployment?.deploymentId);
    expect(comments).toContain('DEPLOYED TO PRODUCTION');
    expect(demo.app.version()).toBe('v2');
    await phone.close();
    await other.close();
  }, 120_000);
});

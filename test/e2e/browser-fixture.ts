import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { startSampleApp } from '../../examples/demo/sample-app/server.js';
import { parseConfig } from '../../functions/shared/config/load.js';
import type { Logger } from '../../functions/shared/ports/index.js';
import { demoConfigText, demoTaskFields } from '../../local/demo.js';
import { embeddedTracker, type LocalRuntime, startLocalRuntime } from '../../local/runtime.js';

const ROOT = resolve(import.meta.dirname, '../..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Whether Debian's Chromium is there; says loudly which tests do not run when it is not. */
export const chromiumOr = (what: string): boolean => {
  const present = existsSync(CHROMIUM);
  if (!present)
    console.warn(
      `⚠️  NOT RUN: ${what} needs Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)`,
    );
  return present;
};

/** Polls `probe` every 100 ms until it answers, for at most `timeoutMs`. */
export const waitFor = async <T>(
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

const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

export interface BrowserDemo {
  browser: Browser;
  runtime: LocalRuntime;
  app: Awaited<ReturnType<typeof startSampleApp>>;
  /** the demo's release task in the input status (`v2`, or `v2-bad` which fails in the bake) */
  createTask(release: string): ReturnType<ReturnType<typeof embeddedTracker>['createTask']>;
  stop(): Promise<void>;
}

/**
 * The demo in the local runtime (the sample app, the demo config with a bake of `bakeMinutes`) and a headless
 * Chromium launched without downloads or background traffic, as the brief prescribes.
 */
export const startBrowserDemo = async (bakeMinutes: number): Promise<BrowserDemo> => {
  const app = await startSampleApp({ port: 0 });
  const yaml = demoConfigText(app.port);
  const config = parseConfig(yaml, 'demo.yaml');
  const service = config.services[0];
  if (service) service.monitoring.period = bakeMinutes;
  const runtime = await startLocalRuntime({
    config,
    dataDir: mkdtempSync(join(tmpdir(), 'devops-agent-browser-')),
    baseDir: ROOT,
    sourceControlFixture: join(ROOT, 'examples/demo/fixtures/source-control.json'),
    logger: quiet,
    retryIntervalMs: 100,
    lockRetryMs: 100,
  });
  const browser = await chromium.launch({
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
  return {
    browser,
    runtime,
    app,
    createTask: (release) =>
      embeddedTracker(runtime).createTask({
        name: 'User Notifications',
        listId: service?.tracker.list_id ?? 'demo-list',
        status: 'Ready to Deploy',
        customFields: demoTaskFields(release),
      }),
    stop: async () => {
      await browser.close();
      await runtime.stop();
      await app.close();
    },
  };
};

import { parseArgs } from 'node:util';

const USAGE = `usage: release.ts --url http://127.0.0.1:4100 <version>   switch the release; prints the previous version
       release.ts --url http://127.0.0.1:4100 current     print the release being served
`;

const fail = (message: string, code = 1): never => {
  process.stderr.write(`${message}\n`);
  process.exit(code);
};

/**
 * Switches the sample app's release, the demo's stand-in for a rollout. It prints only the PREVIOUS version on
 * stdout, so a `command` step's `record` (or the run itself) captures what `undo` restores.
 */
const main = async () => {
  const { values, positionals } = parseArgs({
    options: {
      url: { type: 'string' },
      'bad-release-delay-ms': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const [target, ...extra] = positionals;
  if (!values.url || !target || extra.length > 0) fail(USAGE, 2);
  const base = String(values.url).replace(/\/+$/, '');
  try {
    if (target === 'current') {
      const response = await fetch(`${base}/version`, { signal: AbortSignal.timeout(5000) });
      if (!response.ok) fail(`GET ${base}/version answered ${response.status}`);
      const { version } = (await response.json()) as { version: string };
      process.stdout.write(`${version}\n`);
      return;
    }
    const response = await fetch(`${base}/admin/release`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        version: target,
        ...(values['bad-release-delay-ms'] !== undefined
          ? { BAD_RELEASE_DELAY_MS: Number(values['bad-release-delay-ms']) }
          : {}),
      }),
      signal: AbortSignal.timeout(5000),
    });
    const body = (await response.json().catch(() => ({}))) as { previous?: string; error?: string };
    if (!response.ok || !body.previous) {
      fail(`the sample app refused release ${target}: ${response.status} ${body.error ?? ''}`.trim());
    }
    process.stdout.write(`${body.previous}\n`);
    process.stderr.write(`release ${target} is live (was ${body.previous})\n`);
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    fail(`cannot reach the sample app at ${base}: ${cause?.code ?? (error as Error).message}`);
  }
};

void main();

import { build } from 'esbuild';
import { BUNDLING, PROJECT_ROOT } from '../../infra/constructs/node-function.js';
import { FUNCTION_BUNDLE_OPTIONS } from '../fixtures/function-bundle.js';

describe('function bundling', () => {
  it('keeps error class names in the minified bundle, since Retry/Catch and the HTTP table match them', async () => {
    // Prepare
    const entry = `import { GatesNotMetError, NotFoundError } from './functions/shared/errors.ts';
module.exports = [new GatesNotMetError('x').name, new NotFoundError('y').name];`;

    // Act
    const result = await build({
      stdin: { contents: entry, resolveDir: PROJECT_ROOT, loader: 'ts' },
      bundle: true,
      write: false,
      platform: 'node',
      format: 'cjs',
      target: BUNDLING.target,
      minify: BUNDLING.minify,
      keepNames: BUNDLING.keepNames,
      logLevel: 'silent',
    });
    const module = { exports: [] as string[] };
    new Function('module', 'exports', 'require', result.outputFiles[0]?.text ?? '')(
      module,
      module.exports,
      () => ({}),
    );

    // Assess
    expect(module.exports).toEqual(['GatesNotMetError', 'NotFoundError']);
  });

  it('bundles the Kubernetes client only into the functions that run, undo or describe steps', async () => {
    // Prepare
    const bundle = async (entry: string) =>
      (
        await build({
          ...FUNCTION_BUNDLE_OPTIONS,
          entryPoints: [`${PROJECT_ROOT}/functions/${entry}/handler.ts`],
          write: false,
        })
      ).outputFiles[0]?.text ?? '';

    // Act
    const [acknowledge, executeStep] = await Promise.all([bundle('acknowledge'), bundle('execute-step')]);

    // Assess: the client's KubeConfig class (kept by keepNames) marks it
    expect(executeStep).toContain('KubeConfig');
    expect(acknowledge).not.toContain('KubeConfig');
    expect(executeStep.length - acknowledge.length).toBeGreaterThan(1_000_000);
  }, 120_000);
});

// Jest runs the TypeScript sources as native ESM (middy 7 is ESM-only): SWC strips types and keeps
// `import`, and `node --experimental-vm-modules` (see package.json) lets jest load them as modules.
const swc = [
  '@swc/jest',
  { jsc: { target: 'es2023', parser: { syntax: 'typescript' } }, module: { type: 'es6' } },
];

const project = (name, extra = {}) => ({
  displayName: name,
  testEnvironment: 'node',
  roots: [`<rootDir>/test/${name}`],
  testMatch: ['**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  ...extra,
});

export default {
  // Jest reads the timeout from the root config only; e2e tests pass their own, longer one.
  testTimeout: 60_000,
  projects: [
    project('unit'),
    project('infra'),
    project('statemachine'),
    project('integration'),
    project('e2e'),
  ],
};

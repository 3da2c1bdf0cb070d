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
  projects: [
    project('unit'),
    project('infra', { testTimeout: 60_000 }),
    project('statemachine'),
    project('integration', { testTimeout: 60_000 }),
    project('e2e', { testTimeout: 180_000 }),
  ],
};

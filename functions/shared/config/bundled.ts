import { ConfigError } from '../errors.js';
import { describeExpected, fieldPath, readConfigText } from './issues.js';
import { type Config, ConfigSchema } from './schema.js';

/**
 * The configuration a deployed function runs with. The stack validates `devops-agent.yaml` at synth and
 * bundles it as JSON (`configJson`), so no function carries a YAML parser; the schema still checks it here
 * and applies its defaults, so a bundle that disagrees with the code fails at the first invocation, naming
 * the field.
 */
export const parseConfigJson = (text: string, file: string): Config => {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(
      [
        {
          file,
          path: '',
          message: `not JSON (${(error as Error).message}); bundle the configuration with configJson`,
        },
      ],
      { cause: error },
    );
  }
  const result = ConfigSchema.safeParse(document);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((issue) => ({
      file,
      path: fieldPath(issue.path),
      message: describeExpected(issue),
    })),
  );
};

/** Reads the bundled configuration (CONFIG_PATH of a deployed function). */
export const loadConfigJsonFile = (file: string): Config =>
  parseConfigJson(
    readConfigText(file, 'bundled configuration', 'the stack copies it into every function'),
    file,
  );

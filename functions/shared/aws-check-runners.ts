import { HttpCheckRunner } from '../../local/adapters/http-check-runner.js';
import { SqlCheckRunner } from './adapters/sql-check-runner.js';
import { readSecret } from './aws-ports.js';
import { readVariable } from './env.js';
import type { CheckRunners } from './ports/index.js';

/**
 * The http and sql check runners on AWS, for the functions that run checks (Verify, VerifyRollback, and
 * ExecuteStep for the sql baselines): only they import this module, so only their bundles carry the
 * PostgreSQL and MySQL drivers. Check credentials (`auth.secret`, `url_secret`) are Secrets Manager secret
 * ids the stack grants to exactly these functions (grantCheckSecrets); a Lambda sets no `url_env`
 * variable, so a sql check's URL comes from its url_secret here.
 */
export const awsChecks = (): CheckRunners => ({
  http: new HttpCheckRunner({ secret: readSecret }),
  sql: new SqlCheckRunner({ env: (name) => readVariable(name), secret: readSecret }),
});

import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/**
 * The AwsSolutions findings left unacknowledged in a stack, as `<rule> @ <construct paths>`: an empty list is
 * a clean stack, and a failing test names what to fix or acknowledge.
 */
export const unacknowledgedNagFindings = (scope: IConstruct): string[] =>
  new AwsSolutionsChecks()
    .validateScope(scope)
    .violations.map((v) => `${v.ruleName} @ ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);

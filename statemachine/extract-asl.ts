import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { STATE_MACHINE_LOGICAL_PREFIX } from './deploy-pipeline.js';

const PSEUDO: Record<string, string> = {
  'AWS::Partition': 'aws',
  'AWS::Region': 'eu-west-1',
  'AWS::AccountId': '000000000000',
  'AWS::URLSuffix': 'amazonaws.com',
};

/** Resolves the intrinsics CDK puts into a DefinitionString into placeholder values; anything else is an error. */
const resolveToken = (value: unknown): string => {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if ('Fn::Join' in v) {
      const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
      return parts.map(resolveToken).join(sep);
    }
    if ('Ref' in v) return PSEUDO[v.Ref as string] ?? `local-${v.Ref as string}`;
    if ('Fn::GetAtt' in v) {
      const [id, attr] = v['Fn::GetAtt'] as [string, string];
      return attr === 'Arn' ? `arn:aws:lambda:eu-west-1:000000000000:function:${id}` : `local-${id}-${attr}`;
    }
  }
  throw new Error(`cannot resolve ${JSON.stringify(value)} in the state machine definition`);
};

/** The ASL CloudFormation receives for the deployment state machine, with placeholder ARNs. */
export const extractAsl = (stack: Stack): Record<string, unknown> => {
  const machines = Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine');
  const entry = Object.entries(machines).find(([id]) => id.startsWith(STATE_MACHINE_LOGICAL_PREFIX));
  if (!entry) throw new Error('no deployment state machine in the stack');
  return JSON.parse(resolveToken(entry[1].Properties.DefinitionString)) as Record<string, unknown>;
};

export type AslState = { Type: string; [key: string]: unknown };

/** Every state in a definition, also those inside Parallel branches and Map processors. */
export const allStates = (asl: { States?: Record<string, AslState> }): [string, AslState][] => {
  const out: [string, AslState][] = [];
  for (const [name, state] of Object.entries(asl.States ?? {})) {
    out.push([name, state]);
    for (const branch of (state.Branches as { States: Record<string, AslState> }[] | undefined) ?? []) {
      out.push(...allStates(branch));
    }
    const processor = (state.ItemProcessor ?? state.Iterator) as
      | { States: Record<string, AslState> }
      | undefined;
    if (processor) out.push(...allStates(processor));
  }
  return out;
};

export const taskStateNames = (asl: { States?: Record<string, AslState> }): string[] =>
  allStates(asl)
    .filter(([, s]) => s.Type === 'Task')
    .map(([name]) => name);

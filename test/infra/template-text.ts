/** An IAM statement as the template holds it. */
export type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };

/** A template value (an ARN built with Fn::Join and Refs) as plain text, pseudo parameters as `<AWS::Region>`. */
export const templateText = (value: unknown): string =>
  typeof value === 'string'
    ? value
    : Array.isArray(value)
      ? value.map(templateText).join('')
      : value && typeof value === 'object'
        ? 'Fn::Join' in value
          ? templateText((value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'][1])
          : 'Ref' in value
            ? `<${(value as { Ref: string }).Ref}>`
            : JSON.stringify(value)
        : String(value);

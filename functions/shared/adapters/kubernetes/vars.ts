import { BadRequestError } from '../../errors.js';

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_.-]+)\s*\}\}/g;

/**
 * Fills `{{name}}` placeholders from the step's variables (as the command runner does); an unknown name is
 * refused, naming the step and the known names, rather than deployed as literal braces.
 */
export const fillVars = (text: string, vars: Record<string, string>, where: string): string =>
  text.replace(PLACEHOLDER, (_match, name: string) => {
    const value = Object.hasOwn(vars, name) ? vars[name] : undefined;
    if (value === undefined) {
      throw new BadRequestError(
        `${where} uses {{${name}}}, which has no value; known: ${Object.keys(vars).sort().join(', ') || 'none'}`,
      );
    }
    return value;
  });

/** Fills placeholders in every string of a parsed document (never in its keys), so a value cannot add fields. */
export const fillVarsDeep = (value: unknown, vars: Record<string, string>, where: string): unknown => {
  if (typeof value === 'string') return fillVars(value, vars, where);
  if (Array.isArray(value)) return value.map((item) => fillVarsDeep(item, vars, where));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillVarsDeep(v, vars, where)]));
  return value;
};

/** Seconds as people read them in a summary. */
export const seconds = (ms: number): string =>
  ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;

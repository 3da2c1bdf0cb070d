import * as z from 'zod';

/**
 * `/deploy` commands written as ClickUp comments (or typed into the CLI):
 *
 *   /deploy                      start a deployment of this task now, whatever its status
 *   /deploy approve [comment]    approve the task's pending deployment plan
 *   /deploy hold <reason>        hold it (the reason is required)
 *   /deploy break-glass <reason> approve alone, bypassing the approvers (break-glass role; audited loudly)
 *   /deploy rollback <task-id>   roll back that task's deployment: while it bakes, or after it was deployed
 *
 * Only the plain ASCII `/deploy` at the start of the comment counts (any case, surrounding whitespace
 * ignored): a comment that merely mentions it, or spells it with look-alike characters (a full-width
 * solidus, a Cyrillic "е", a zero-width space), is an ordinary comment.
 */

export const COMMAND_USAGE = [
  'Usage:',
  '`/deploy` start a deployment of this task now',
  '`/deploy approve [comment]` approve the pending plan',
  '`/deploy hold <reason>` hold the pending plan',
  '`/deploy break-glass <reason>` approve alone in an emergency (break-glass role only)',
  '`/deploy rollback <task-id>` roll back a deployment during its bake or after it was deployed',
].join('\n');

const MAX_TEXT = 2000;

/** ClickUp task ids (`86b1xk7qz`) and custom ids (`DEV-123`); a leading `#` as ClickUp shows them is fine. */
export const TaskIdSchema = z
  .string()
  .transform((s) => s.replace(/^#/, ''))
  .pipe(z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'expected a task id such as 86b1xk7qz' }));

export const CommandSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('deploy') }),
  z.object({
    kind: z.literal('approve'),
    comment: z.string().trim().min(1).max(MAX_TEXT).optional(),
  }),
  z.object({
    kind: z.literal('hold'),
    reason: z
      .string({ error: 'a hold needs a reason: `/deploy hold <reason>`' })
      .trim()
      .min(1, { error: 'a hold needs a reason: `/deploy hold <reason>`' })
      .max(MAX_TEXT, { error: `the reason is longer than ${MAX_TEXT} characters` }),
  }),
  z.object({
    kind: z.literal('break-glass'),
    reason: z
      .string({ error: 'break-glass needs a reason: `/deploy break-glass <reason>`' })
      .trim()
      .min(1, { error: 'break-glass needs a reason: `/deploy break-glass <reason>`' })
      .max(MAX_TEXT, { error: `the reason is longer than ${MAX_TEXT} characters` }),
  }),
  z.object({
    kind: z.literal('rollback'),
    taskId: z
      .string({ error: 'say which task to roll back: `/deploy rollback <task-id>`' })
      .pipe(TaskIdSchema),
    reason: z.string().trim().min(1).max(MAX_TEXT).optional(),
  }),
]);
export type Command = z.infer<typeof CommandSchema>;

export type ParsedCommand =
  | { ok: true; command: Command }
  /** a `/deploy …` that is not well-formed: `error` says what is wrong, `usage` how to write it */
  | { ok: false; error: string; usage: string };

/** A comment as ClickUp delivers it: webhook `text_content`, REST `comment_text`, or rich `comment` runs. */
export type CommentInput =
  | string
  | {
      text_content?: unknown;
      comment_text?: unknown;
      comment?: unknown;
      text?: unknown;
    };

const runsText = (runs: unknown): string | undefined => {
  if (!Array.isArray(runs)) return undefined;
  const text = runs
    .map((run) =>
      run && typeof run === 'object' && 'text' in run && typeof run.text === 'string' ? run.text : '',
    )
    .join('');
  return text.length > 0 ? text : undefined;
};

/** The plain text of a comment in any of ClickUp's shapes; the plain fields win over the rich runs. */
export const commentText = (input: CommentInput | null | undefined): string | undefined => {
  if (typeof input === 'string') return input;
  if (!input || typeof input !== 'object') return undefined;
  for (const value of [input.text_content, input.comment_text, input.text]) {
    if (typeof value === 'string' && value.trim().length > 0) return value;
  }
  if (typeof input.comment === 'string') return input.comment;
  return runsText(input.comment);
};

const PREFIX = /^\/deploy(?=\s|$)/i;

/**
 * Reads a comment as a `/deploy` command. `undefined` for an ordinary comment (never throws for one);
 * `{ok: false}` with a usage text for a malformed `/deploy …`.
 */
export const parseCommand = (input: CommentInput | null | undefined): ParsedCommand | undefined => {
  const text = commentText(input)?.trim();
  if (!text || !PREFIX.test(text)) return undefined;
  const rest = text.replace(PREFIX, '').trim();
  const [word = '', ...others] = rest.split(/\s+/);
  const tail = rest.slice(word.length).trim();
  let candidate: unknown;
  switch (word.toLowerCase()) {
    case '':
      candidate = { kind: 'deploy' };
      break;
    case 'approve':
      candidate = { kind: 'approve', ...(tail ? { comment: tail } : {}) };
      break;
    case 'hold':
      candidate = { kind: 'hold', reason: tail };
      break;
    case 'break-glass':
      candidate = { kind: 'break-glass', reason: tail };
      break;
    case 'rollback': {
      const [taskId, ...reason] = others;
      const why = taskId ? tail.slice(taskId.length).trim() : '';
      candidate = { kind: 'rollback', taskId, ...(reason.length > 0 && why ? { reason: why } : {}) };
      break;
    }
    default:
      return {
        ok: false,
        error: `unknown command \`/deploy ${word.slice(0, 40)}\``,
        usage: COMMAND_USAGE,
      };
  }
  const parsed = CommandSchema.safeParse(candidate);
  if (!parsed.success) {
    return { ok: false, error: parsed.error.issues.map((i) => i.message).join('; '), usage: COMMAND_USAGE };
  }
  return { ok: true, command: parsed.data };
};

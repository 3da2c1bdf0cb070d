/**
 * Text from people (a task name, a commenter's name) as the agent writes it into a line of its own — a
 * mail subject, "Approved by: …": one line, without control or bidirectional-override characters, so the
 * value cannot add a header or a line ("Bcc: …", "Approved by: …") or reorder what follows; at most `max`
 * characters.
 */
export const oneLine = (text: string, max = 100): string =>
  text
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is removed
    .replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, max);

/** Mail subjects: one line, at most 200 characters (what mail clients show of it and more). */
export const mailSubject = (subject: string): string => oneLine(subject, 200);

import type { Notification } from '../functions/shared/ports/notifier.js';

/** The personal approval links in a mail (`…/approvals/<id>?t=<token>`), in the order they appear. */
export const approvalLinksIn = (mail: Pick<Notification, 'text'>): string[] =>
  [...mail.text.matchAll(/https?:\/\/\S+\/approvals\/[A-Za-z0-9_-]+\?t=[A-Za-z0-9._%-]+/g)].map((m) => m[0]);

const hidden = (html: string, name: string): string | undefined =>
  new RegExp(`<input type="hidden" name="${name}" value="([^"]*)">`).exec(html)?.[1]?.replace(/&amp;/g, '&');

/**
 * Decides through the confirm page as a browser would: GET the link (which only shows the page and sets the
 * anti-forgery cookie), then POST the page's form with that cookie. Returns the answer page. The demo's
 * auto-approve and the tests use it; people use a browser.
 */
export const decideThroughPage = async (
  link: string,
  decision: 'approve' | 'hold',
  comment?: string,
): Promise<{ status: number; html: string }> => {
  const page = await fetch(link);
  const html = await page.text();
  const cookie = page.headers.get('set-cookie')?.split(';')[0] ?? '';
  const [t, csrf, planHash] = [hidden(html, 't'), hidden(html, 'csrf'), hidden(html, 'plan_hash')];
  if (!t || !csrf || !planHash) return { status: page.status, html };
  const answer = await fetch(link.replace(/\?.*$/, ''), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
    body: new URLSearchParams({
      t,
      csrf,
      plan_hash: planHash,
      decision,
      ...(comment ? { comment } : {}),
    }),
  });
  return { status: answer.status, html: await answer.text() };
};

import { awsPorts } from '../shared/aws-ports.js';
import { BadRequestError, NotFoundError } from '../shared/errors.js';
import { toHttpError } from '../shared/http-errors.js';
import { htmlResult, httpHandler, rawBody } from '../shared/middleware.js';
import { getApprovalView, renderApprovalPage, submitApprovalDecision } from './approval-page.js';

/**
 * GET /approvals/{id} shows the plan and the form (reading decides nothing, so link scanners cannot
 * approve); POST /approvals/{id} records the decision once and answers the waiting workflow.
 */
export const handler = httpHandler(async (event) => {
  const id = event.pathParameters?.id;
  if (!id) throw new NotFoundError('no approval id in the path');
  const ports = awsPorts();
  // The form posts back to the path it was served from (the stage is part of it).
  const action = event.requestContext?.path ?? event.path;
  if (event.httpMethod === 'GET')
    return htmlResult(200, renderApprovalPage(await getApprovalView(id, ports), action));
  if (event.httpMethod !== 'POST') throw new BadRequestError(`${event.httpMethod} is not supported here`);
  const form = Object.fromEntries(new URLSearchParams(rawBody(event)));
  try {
    const decision = await submitApprovalDecision(
      id,
      { ...form, comment: form.comment || undefined },
      {
        channel: 'link',
        sourceIp: event.requestContext?.identity?.sourceIp,
        userAgent: event.requestContext?.identity?.userAgent ?? undefined,
      },
      ports,
    );
    const view = await getApprovalView(id, ports);
    return htmlResult(
      200,
      renderApprovalPage(view, action, `Recorded: ${decision.decision} by ${decision.by}.`),
    );
  } catch (error) {
    const { statusCode, message } = toHttpError(error);
    if (statusCode >= 500) throw error;
    const view = await getApprovalView(id, ports);
    return htmlResult(statusCode, renderApprovalPage(view, action, message));
  }
});

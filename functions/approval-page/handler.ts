import { AGENT_METRICS } from '../shared/agent-metrics.js';
import {
  clickUpTracker,
  dynamoStore,
  stepFunctionsWorkflow,
  storedApprovalKeys,
} from '../shared/aws-adapters.js';
import { awsPorts } from '../shared/aws-ports.js';
import { htmlResult, httpHandler, lowerCaseHeaders, rawBody } from '../shared/middleware.js';
import { cookiesFrom, handleApprovalRequest } from './approval-page.js';

const ports = awsPorts({
  tracker: clickUpTracker,
  store: dynamoStore,
  workflow: stepFunctionsWorkflow,
  approvalKeys: storedApprovalKeys,
});

/**
 * GET /approvals/{id}?t=<signed link> shows the plan and the form (reading decides nothing, so link
 * scanners cannot approve); POST /approvals/{id} records the approver's decision once.
 */
export const handler = httpHandler(
  async (event) => {
    const headers = lowerCaseHeaders(event);
    const answer = await handleApprovalRequest(
      {
        method: event.httpMethod,
        approvalId: event.pathParameters?.id ?? '',
        query: Object.fromEntries(
          Object.entries(event.queryStringParameters ?? {}).map(([k, v]) => [k, v ?? undefined]),
        ),
        ...(event.httpMethod === 'POST'
          ? { form: Object.fromEntries(new URLSearchParams(rawBody(event))) }
          : {}),
        cookies: cookiesFrom(headers.cookie),
        ...(event.requestContext?.identity?.sourceIp
          ? { sourceIp: event.requestContext.identity.sourceIp }
          : {}),
        ...(event.requestContext?.identity?.userAgent
          ? { userAgent: event.requestContext.identity.userAgent }
          : {}),
        // The form posts back to the path it was served from (the stage is part of it).
        formAction: event.requestContext?.path ?? event.path,
        secure: true,
      },
      ports(),
    );
    const result = htmlResult(answer.statusCode, answer.html);
    return { ...result, headers: { ...result.headers, ...answer.headers } };
  },
  { requests: AGENT_METRICS.names.approvalPageRequests, serverErrors: AGENT_METRICS.names.approvalPage5xx },
);

import { AGENT_METRICS } from '../shared/agent-metrics.js';
import { clickUpTracker, dynamoStore, stepFunctionsWorkflow } from '../shared/aws-adapters.js';
import { awsPorts, webhookSecret } from '../shared/aws-ports.js';
import { httpHandler, jsonResult, lowerCaseHeaders, rawBody } from '../shared/middleware.js';
import { handleClickUpWebhook } from './clickup-webhook.js';

const ports = awsPorts({ tracker: clickUpTracker, store: dynamoStore, workflow: stepFunctionsWorkflow });

/** POST /webhooks/clickup: verified against the webhook secret; errors map to 400/403, never 401/410. */
export const handler = httpHandler(
  async (event) => {
    const result = await handleClickUpWebhook(
      { rawBody: rawBody(event), headers: lowerCaseHeaders(event) },
      ports(),
      await webhookSecret(),
    );
    return jsonResult(result.statusCode, result.body);
  },
  { requests: AGENT_METRICS.names.webhookRequests, serverErrors: AGENT_METRICS.names.webhook5xx },
);

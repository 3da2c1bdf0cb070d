import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { NodeHttpHandler } from '@smithy/node-http-handler';

let server: Server;
const saved = { ...process.env };

beforeAll(async () => {
  // Secrets Manager's JSON protocol: any 400 answer with a type ends the call without retries
  server = createServer((_req, res) => {
    res.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' });
    res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: 'no such secret' }));
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', () => done()));
  Object.assign(process.env, {
    AWS_REGION: 'eu-west-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  });
});

afterAll(async () => {
  process.env = saved;
  await new Promise<void>((done) => server.close(() => done()));
});

describe('the production SDK clients', () => {
  it('give up on a silent endpoint: a connection within 5 s, a socket idle at most 20 s', async () => {
    // Prepare: the module builds its clients from the environment at first use
    const { AWS_HTTP_TIMEOUTS, secretsClient } = await import('../../../functions/shared/clients.js');
    const client = secretsClient();

    // Act: one call, so that the handler has resolved its configuration
    await expect(client.send(new GetSecretValueCommand({ SecretId: 'x' }))).rejects.toThrow('no such secret');
    const config = (client.config.requestHandler as NodeHttpHandler).httpHandlerConfigs();

    // Assess
    expect(config).toMatchObject({ connectionTimeout: 5_000, socketTimeout: 20_000 });
    expect(AWS_HTTP_TIMEOUTS).toEqual({ connectionTimeout: 5_000, socketTimeout: 20_000 });
  });
});

import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { handleClickUpWebhook } from '../../../functions/clickup-webhook/clickup-webhook.js';
import { toHttpError } from '../../../functions/shared/http-errors.js';
import { fakePorts } from '../../fixtures/ports.js';

const SECRET = 'whsec-property';
const sign = (body: string, secret = SECRET) => createHmac('sha256', secret).update(body).digest('hex');
const RUNS = { numRuns: 200 };

/** Names the handler may throw for a delivery whose signature is not valid. */
const UNSIGNED_ERRORS = ['BadRequestError', 'SignatureInvalidError'];

/** Values shaped like the fields ClickUp sends, so generated events reach the parser's inner branches. */
const idLike = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.string({ minLength: 60, maxLength: 300 }),
  fc.integer(),
  fc.constant('t1'),
  fc.constant('L1'),
);
const statusLike = fc.oneof(
  fc.constant('Ready to Deploy'),
  fc.string({ maxLength: 20 }),
  fc.record({ status: fc.oneof(fc.constant('ready to deploy'), fc.string({ maxLength: 20 })) }),
  fc.jsonValue({ maxDepth: 2 }),
);
const userLike = fc.oneof(
  fc.constant(null),
  fc.record(
    { id: idLike, email: fc.oneof(fc.string(), fc.emailAddress(), fc.constant(null)), username: fc.string() },
    { requiredKeys: [] },
  ),
);
const historyItem = fc.record(
  {
    id: idLike,
    field: fc.oneof(fc.constantFrom('status', 'comment', 'name'), fc.string({ maxLength: 8 })),
    parent_id: fc.oneof(idLike, fc.constant(null)),
    user: userLike,
    after: statusLike,
    comment: fc.oneof(
      fc.constant(null),
      fc.record(
        {
          id: idLike,
          text_content: fc.oneof(
            fc.string(),
            fc.constantFrom('/deploy', '/deploy approve', '/deploy hold', '/deploy rollback t1'),
          ),
          comment: fc.oneof(fc.string(), fc.array(fc.record({ text: fc.string() }), { maxLength: 3 })),
          user: userLike,
        },
        { requiredKeys: [] },
      ),
    ),
  },
  { requiredKeys: [] },
);
const eventLike = fc.record(
  {
    event: fc.oneof(
      fc.constantFrom('taskStatusUpdated', 'taskCommentPosted', 'taskCreated', ''),
      fc.string({ maxLength: 20 }),
      fc.integer(),
    ),
    task_id: fc.oneof(idLike, fc.constant(null)),
    webhook_id: fc.oneof(
      fc.string({ maxLength: 10 }),
      fc.string({ minLength: 60, maxLength: 300 }),
      fc.integer(),
    ),
    history_items: fc.oneof(fc.array(historyItem, { maxLength: 3 }), fc.jsonValue({ maxDepth: 2 })),
  },
  { requiredKeys: [] },
);

/** Any text a client could send: noise, arbitrary JSON, and JSON shaped like a ClickUp event. */
const anyBody = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.json({ maxDepth: 4 }),
  eventLike.map((e) => JSON.stringify(e)),
);

/** Any X-Signature header: absent, empty, noise, hex of the right length, or a signature of another text. */
const anySignatureFor = (body: string) =>
  fc.oneof(
    fc.constant(undefined),
    fc.constant(''),
    fc.string({ maxLength: 80 }),
    fc.stringMatching(/^[0-9a-f]{64}$/),
    fc.string().map((other) => sign(`${body}${other}x`)),
    fc.constant(sign(body, 'another-secret')),
    fc.constant(
      sign(body)
        .toUpperCase()
        .replace(/^(.)/, (c) => (c === 'A' ? 'B' : 'A')),
    ),
  );

/** Headers an attacker may add around the signature; none of them can stand in for it. */
const extraHeaders = fc.dictionary(
  fc.oneof(fc.constantFrom('x-clickup-signature', 'authorization', 'x-forwarded-for'), fc.string()),
  fc.string(),
  { maxKeys: 3 },
);

const setup = () => {
  const f = fakePorts();
  f.tracker.add({ id: 't1', name: 'User Notifications', status: 'Ready to Deploy' });
  return f;
};

/** Runs the handler and returns what it threw (or undefined when it answered). */
const outcomeOf = async (run: () => Promise<unknown>): Promise<{ error?: unknown; answer?: unknown }> => {
  try {
    return { answer: await run() };
  } catch (error) {
    return { error };
  }
};

describe('handleClickUpWebhook (properties)', () => {
  it('answers any unsigned or wrongly signed delivery only with BadRequestError or SignatureInvalidError, mapped to 400/403, and starts nothing', async () => {
    await fc.assert(
      fc.asyncProperty(
        anyBody.chain((body) => fc.tuple(fc.constant(body), anySignatureFor(body), extraHeaders)),
        async ([body, signature, extra]) => {
          // Prepare
          const { ports, workflow, store, tracker } = setup();
          const headers = { ...extra, 'x-signature': signature };

          // Act
          const { error, answer } = await outcomeOf(() =>
            handleClickUpWebhook({ rawBody: body, headers }, ports, SECRET),
          );

          // Assess
          expect(answer).toBeUndefined();
          expect(UNSIGNED_ERRORS).toContain((error as Error).name);
          expect([400, 403]).toContain(toHttpError(error).statusCode);
          expect((error as Error).message.length).toBeGreaterThan(10);
          expect(workflow.started).toEqual([]);
          expect(await store.listDeployments()).toEqual([]);
          expect(tracker.comments).toEqual([]);
        },
      ),
      RUNS,
    );
  });

  it('refuses a well-formed start event that is not signed with the secret, whatever the signature header holds', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 30 }), fc.string({ maxLength: 80 }), async (hookId, sig) => {
        // Prepare
        const { ports, workflow } = setup();
        const body = startEvent('Ready to Deploy', hookId);

        // Act
        const act = handleClickUpWebhook({ rawBody: body, headers: { 'x-signature': sig } }, ports, SECRET);

        // Assess
        await expect(act).rejects.toMatchObject({ name: 'SignatureInvalidError' });
        expect(workflow.started).toEqual([]);
      }),
      RUNS,
    );
  });

  it('answers any validly signed body with a 2xx answer or a BadRequestError, never another error', async () => {
    await fc.assert(
      fc.asyncProperty(anyBody, async (body) => {
        // Prepare
        const { ports, workflow } = setup();

        // Act
        const { error, answer } = await outcomeOf(() =>
          handleClickUpWebhook({ rawBody: body, headers: { 'x-signature': sign(body) } }, ports, SECRET),
        );

        // Assess
        if (error !== undefined) {
          // A signed event for a task the tracker does not know is the tracker's NotFoundError (404).
          expect(['BadRequestError', 'NotFoundError']).toContain((error as Error).name);
          expect(workflow.started).toEqual([]);
        } else {
          expect([200, 202, 204]).toContain((answer as { statusCode: number }).statusCode);
        }
        expect(workflow.started.length).toBeLessThanOrEqual(1);
      }),
      RUNS,
    );
  });

  it('starts exactly one deployment for a validly signed move to the input status, however the status is cased or padded and however often it is delivered', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.boolean(), { minLength: 15, maxLength: 15 }),
        fc.constantFrom('', ' ', '\t', '\n  '),
        fc.integer({ min: 1, max: 3 }),
        fc.string({ maxLength: 20 }),
        async (upper, pad, deliveries, hookId) => {
          // Prepare
          const { ports, workflow } = setup();
          const status = [...'Ready to Deploy']
            .map((c, i) => (upper[i] ? c.toUpperCase() : c.toLowerCase()))
            .join('');
          const body = startEvent(`${pad}${status}${pad}`, hookId);

          // Act
          const answers = [];
          for (let i = 0; i < deliveries; i++) {
            answers.push(
              await handleClickUpWebhook(
                { rawBody: body, headers: { 'x-signature': ` ${sign(body)} ` } },
                ports,
                SECRET,
              ),
            );
          }

          // Assess
          expect(workflow.started).toHaveLength(1);
          expect(workflow.started[0]).toMatchObject({ taskId: 't1', service: 'notifications' });
          expect(answers.filter((a) => a.body.result === 'started')).toHaveLength(1);
        },
      ),
      RUNS,
    );
  });

  it('starts nothing for a validly signed move to a status that is not the input status, or on a list that is not configured', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ maxLength: 30 }).filter((s) => s.trim().toLowerCase() !== 'ready to deploy'),
        fc.oneof(fc.constant('L1'), fc.string({ minLength: 1, maxLength: 8 })),
        async (status, listId) => {
          // Prepare
          const { ports, workflow } = setup();
          const body = startEvent(status, 'wh1', listId);

          // Act
          const answer = await handleClickUpWebhook(
            { rawBody: body, headers: { 'x-signature': sign(body) } },
            ports,
            SECRET,
          );

          // Assess
          expect(answer).toMatchObject({ statusCode: 200, body: { result: 'ignored' } });
          expect(workflow.started).toEqual([]);
        },
      ),
      RUNS,
    );
  });
});

describe('handleClickUpWebhook (oversized bodies)', () => {
  it.each([
    ['256 KiB and one byte of ASCII', 'x'.repeat(256 * 1024 + 1)],
    ['87382 three-byte characters (under 256 Ki characters, over 256 KiB)', '\u20ac'.repeat(87_382)],
  ])(
    'refuses a validly signed body of %s with BadRequestError before parsing it, and starts nothing',
    async (_size, pad) => {
      // Prepare
      const { ports, workflow } = setup();
      const body = startEvent('Ready to Deploy', 'wh1', 'L1', pad);

      // Act
      const act = handleClickUpWebhook(
        { rawBody: body, headers: { 'x-signature': sign(body) } },
        ports,
        SECRET,
      );

      // Assess
      await expect(act).rejects.toMatchObject({
        name: 'BadRequestError',
        message: 'body larger than 256 KiB',
      });
      expect(workflow.started).toEqual([]);
    },
  );

  it('accepts a validly signed start event just under 256 KiB', async () => {
    // Prepare
    const { ports, workflow } = setup();
    const bare = startEvent('Ready to Deploy', 'wh1', 'L1', '');
    const body = startEvent('Ready to Deploy', 'wh1', 'L1', 'x'.repeat(256 * 1024 - Buffer.byteLength(bare)));

    // Act
    const answer = await handleClickUpWebhook(
      { rawBody: body, headers: { 'x-signature': sign(body) } },
      ports,
      SECRET,
    );

    // Assess
    expect(Buffer.byteLength(body)).toBe(256 * 1024);
    expect(answer.statusCode).toBe(202);
    expect(workflow.started).toHaveLength(1);
  });
  it('refuses a validly signed event whose webhook or history item id is longer than any ClickUp id with BadRequestError naming the field', async () => {
    // Prepare
    const { ports, workflow } = setup();
    const body = startEvent('Ready to Deploy', 'w'.repeat(300));

    // Act
    const act = handleClickUpWebhook(
      { rawBody: body, headers: { 'x-signature': sign(body) } },
      ports,
      SECRET,
    );

    // Assess
    await expect(act).rejects.toMatchObject({
      name: 'BadRequestError',
      message: expect.stringContaining('webhook_id'),
    });
    expect(workflow.started).toEqual([]);
  });
});

function startEvent(status: string, hookId: string, listId = 'L1', note?: string): string {
  return JSON.stringify({
    event: 'taskStatusUpdated',
    ...(note === undefined ? {} : { note }),
    task_id: 't1',
    webhook_id: hookId,
    history_items: [
      { id: 'h1', field: 'status', parent_id: listId, user: { id: 7 }, after: { status, type: 'custom' } },
    ],
  });
}

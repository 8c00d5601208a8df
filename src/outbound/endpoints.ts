import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { WebhookDeliveryId, WebhookEndpointId, type CreatedWebhookEndpoint, type CreateWebhookEndpointBody, type OutboundEventType, type WebhookDelivery, type WebhookEndpoint } from '../contract.js';
import * as deliveryRows from '../db/webhook-deliveries.js';
import * as endpointRows from '../db/webhook-endpoints.js';
import { bounded, Deadline, type Db } from '../db/sql.js';
import type { WebhookEndpointRow } from '../db/webhook-endpoints.js';
import { AppError } from '../errors.js';
import type { EngineContext } from '../engine/context.js';
import type { Outbound } from './outbound.js';

/** Deliveries listed per endpoint, newest first. */
const LISTED_DELIVERIES = 100;

function endpointView(row: WebhookEndpointRow): WebhookEndpoint {
  return {
    id: row.id,
    url: row.url,
    events: row.events as OutboundEventType[],
    description: row.description,
    created_at: row.created_at.toISOString(),
    disabled_at: row.disabled_at?.toISOString() ?? null,
    disabled_reason: row.disabled_reason,
  };
}


const notFound = (id: string) => new AppError('webhook_endpoint_not_found', `no webhook endpoint ${id}`);
const deliveryNotFound = (id: string) => new AppError('webhook_delivery_not_found', `no webhook delivery ${id}`);

/** `id` when it has the shape the engine hands out, else a 404 without asking Postgres (whose text cannot hold a NUL, say). */
function wellFormed(shape: z.ZodString, id: string, missing: (id: string) => AppError): string {
  if (!shape.safeParse(id).success) throw missing(id);
  return id;
}

/** Admin side of outbound events: endpoints (their secret shown once, at creation) and their deliveries. */
export class WebhookEndpoints {
  constructor(
    private readonly ctx: EngineContext,
    private readonly outbound: Outbound,
  ) {}

  /** Registers an endpoint; the caller waits at most Postgres's deadline (see `changed`). */
  async create(input: CreateWebhookEndpointBody, log: Logger = this.ctx.logger): Promise<CreatedWebhookEndpoint> {
    // (an answer other than 201 leaves no endpoint behind whose secret nobody got: it rolls back)
    const row = (await this.changed((tx) =>
      endpointRows.insert(tx, {
        id: `ep_${randomBytes(12).toString('hex')}`,
        url: input.url,
        events: input.events,
        description: input.description ?? null,
        // 24 random bytes, base64, as the Standard Webhooks specification suggests
        secret: `whsec_${randomBytes(24).toString('base64')}`,
      }),
    ))!;
    log.info({ endpointId: row.id, url: row.url, events: row.events }, 'webhook endpoint registered');
    return { ...endpointView(row), secret: row.secret };
  }

  async list(): Promise<WebhookEndpoint[]> {
    return (await bounded(endpointRows.all(this.ctx.sql))).map(endpointView);
  }

  async get(id: string): Promise<WebhookEndpoint> {
    const row = await bounded(endpointRows.find(this.ctx.sql, wellFormed(WebhookEndpointId, id, notFound)));
    if (!row) throw notFound(id);
    return endpointView(row);
  }

  /** Deletes the endpoint; its pending deliveries are dropped with it. The caller waits at most Postgres's deadline. */
  async remove(id: string, log: Logger = this.ctx.logger): Promise<void> {
    wellFormed(WebhookEndpointId, id, notFound);
    if (!(await this.changed((tx) => endpointRows.remove(tx, id)))) throw notFound(id);
    log.info({ endpointId: id }, 'webhook endpoint deleted');
  }

  /**
   * Enables a disabled endpoint again (new events are delivered to it; its failed deliveries can be
   * redelivered). The caller waits at most Postgres's deadline.
   */
  async enable(id: string, log: Logger = this.ctx.logger): Promise<WebhookEndpoint> {
    wellFormed(WebhookEndpointId, id, notFound);
    const row = await this.changed((tx) => endpointRows.enable(tx, id));
    if (!row) throw notFound(id);
    log.info({ endpointId: id }, 'webhook endpoint enabled');
    return endpointView(row);
  }

  /**
   * `change` made with its hold-events switch (`Outbound.changeEndpoint`) by Postgres's deadline, or not
   * at all: the caller is answered 503 at the deadline, and a change not committed by then rolls back.
   */
  private changed(change: (tx: Db) => Promise<WebhookEndpointRow | null>): Promise<WebhookEndpointRow | null> {
    const deadline = new Deadline();
    const made = this.outbound.changeEndpoint(change, () => deadline.check()).then((row) => {
      deadline.made();
      return row;
    });
    return deadline.wait(made);
  }

  async deliveries(endpointId: string): Promise<WebhookDelivery[]> {
    await this.get(endpointId);
    return this.withAttempts(await bounded(deliveryRows.forEndpoint(this.ctx.sql, endpointId, LISTED_DELIVERIES)));
  }

  /**
   * Sends a delivered or failed delivery again; a pending one is answered as it is (it is on its way).
   * The caller waits at most Postgres's deadline; the restart goes on (deliveries are at least once).
   */
  async redeliver(deliveryId: string, log: Logger = this.ctx.logger): Promise<WebhookDelivery> {
    return bounded(this.redeliverNow(wellFormed(WebhookDeliveryId, deliveryId, deliveryNotFound), log));
  }

  private async redeliverNow(deliveryId: string, log: Logger): Promise<WebhookDelivery> {
    await this.outbound.redeliver(deliveryId, log);
    const row = await deliveryRows.find(this.ctx.sql, deliveryId);
    if (!row) throw deliveryNotFound(deliveryId);
    return (await this.withAttempts([row]))[0]!;
  }

  private async withAttempts(rows: deliveryRows.DeliveryRow[]): Promise<WebhookDelivery[]> {
    const attempts = await bounded(deliveryRows.attempts(this.ctx.sql, rows.map((r) => r.id)));
    return rows.map((r) => ({
      id: r.id,
      endpoint_id: r.endpoint_id,
      event_id: r.event_id,
      event_type: r.event_type as OutboundEventType,
      status: r.status,
      next_attempt_at: r.next_attempt_at?.toISOString() ?? null,
      created_at: r.created_at.toISOString(),
      attempts: attempts
        .filter((a) => a.delivery_id === r.id)
        .map((a) => ({ attempt: a.attempt, at: a.at.toISOString(), status_code: a.status_code, error: a.error, duration_ms: a.duration_ms })),
    }));
  }
}

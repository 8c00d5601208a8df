import { AggregatorRegistry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { engineMetrics, Metrics } from '../../src/http/metrics.js';

describe('metrics of several API processes', () => {
  it("add up in prom-client's AggregatorRegistry, the latency histogram included", async () => {
    const processes = [new Metrics(), new Metrics()];
    processes.forEach((m, i) => {
      m.observeRequest('POST', '/api/holds', 201, i === 0 ? 0.003 : 0.02);
      engineMetrics(m).holdPlaced();
    });
    const text = await AggregatorRegistry.aggregate(await Promise.all(processes.map((m) => m.registry.getMetricsAsJSON()))).metrics();
    expect(text).toContain('http_request_duration_seconds_count{method="POST",route="/api/holds",status="201"} 2');
    expect(text).toContain('http_request_duration_seconds_bucket{method="POST",route="/api/holds",status="201",le="0.005"} 1');
    expect(text).toContain('http_request_duration_seconds_bucket{method="POST",route="/api/holds",status="201",le="0.025"} 2');
    expect(text).toContain('holds_created_total 2');
  });
});

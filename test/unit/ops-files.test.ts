/**
 * The monitoring files in the repo (no Docker here to run them): they parse, docker compose mounts
 * files that exist, and every series an alert or a Grafana panel asks for is one the engine exposes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { test } from '../support/fixtures.js';
import type { Harness } from '../support/harness.js';

test.override('harnessOptions', { inProcess: true });

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFileSync(ROOT + path, 'utf8');
const yamlOf = (path: string) => parse(read(path)) as Record<string, unknown>;

interface Rule {
  alert: string;
  expr: string;
  annotations: { summary: string };
}
interface Panel {
  title: string;
  datasource: { uid: string };
  targets: { expr: string }[];
}

const PROMQL_FUNCTIONS = new Set(['histogram_quantile', 'clamp_min']);

/** The metric names a PromQL expression reads (label matchers, grouping labels and strings left out). */
function seriesIn(expr: string): string[] {
  const bare = expr
    .replace(/"[^"]*"/g, '')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\b(by|without)\s*\([^)]*\)/g, '');
  return [...bare.matchAll(/[a-z_][a-z0-9_]*/g)].map((m) => m[0]).filter((t) => t.includes('_') && !PROMQL_FUNCTIONS.has(t));
}

let h: Harness;
test.beforeAll(({ harness }) => {
  h = harness;
});

/** Every metric family /metrics exposes, with the _bucket/_sum/_count series of its histograms. */
async function exposed(): Promise<Set<string>> {
  const text = await (await h.request('GET', '/metrics')).text();
  const names = new Set<string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name! + suffix);
  }
  return names;
}

describe('ops files', () => {
  it('docker-compose.yml runs Prometheus and Grafana under the observability profile, with files that exist', () => {
    const services = yamlOf('docker-compose.yml').services as Record<string, { profiles?: string[]; volumes?: string[] }>;
    for (const name of ['prometheus', 'grafana']) {
      expect(services[name]!.profiles).toEqual(['observability']);
      for (const volume of services[name]!.volumes!) expect(existsSync(ROOT + volume.split(':')[0]!.replace(/^\.\//, ''))).toBe(true);
    }
    expect(services.engine!.profiles).toBeUndefined();
  });

  it('Prometheus scrapes the engine and loads the alert rules', () => {
    const config = yamlOf('ops/prometheus/prometheus.yml') as { rule_files: string[]; scrape_configs: { metrics_path: string; static_configs: { targets: string[] }[] }[] };
    expect(config.rule_files).toEqual(['/etc/prometheus/alerts.yml']);
    expect(config.scrape_configs[0]).toMatchObject({ metrics_path: '/metrics', static_configs: [{ targets: ['engine:3000'] }] });
  });

  it('every alert reads series the engine exposes and says what happened', async () => {
    const rules = (yamlOf('ops/prometheus/alerts.yml') as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.alert)).toEqual(expect.arrayContaining(['RedisUnreachable', 'PersistenceLagging', 'FailedJobs', 'ServerErrors', 'HoldLatencyHigh', 'EventLoopLag']));
    const names = await exposed();
    for (const rule of rules) {
      expect(rule.annotations.summary, rule.alert).toBeTruthy();
      for (const series of seriesIn(rule.expr)) expect(names, `${rule.alert}: ${series}`).toContain(series);
    }
  });

  it('the Grafana dashboard is provisioned, and every panel reads series the engine exposes', async () => {
    const datasource = (yamlOf('ops/grafana/provisioning/datasources/prometheus.yml') as { datasources: { uid: string }[] }).datasources[0]!;
    const dashboard = JSON.parse(read('ops/grafana/flash-sale.json')) as { uid: string; panels: Panel[] };
    expect(dashboard.uid).toBe('flash-sale');
    const names = await exposed();
    for (const panel of dashboard.panels) {
      expect(panel.datasource.uid, panel.title).toBe(datasource.uid);
      for (const series of panel.targets.flatMap((t) => seriesIn(t.expr))) expect(names, `${panel.title}: ${series}`).toContain(series);
    }
  });
});

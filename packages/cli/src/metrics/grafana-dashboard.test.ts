import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PrometheusMetrics } from './prometheus-metrics.ts';

const DASHBOARD = join(import.meta.dirname, '../../grafana/litestream-ts.json');

interface Query {
  readonly where: string;
  readonly expr: string;
}

/** Every PromQL expression in the dashboard: panel targets and variable queries. */
function queries(dashboard: any): Query[] {
  const found: Query[] = [];
  for (const panel of dashboard.panels ?? []) {
    for (const target of panel.targets ?? []) found.push({ where: `panel "${panel.title}"`, expr: target.expr });
  }
  for (const variable of dashboard.templating?.list ?? []) {
    if (variable.type === 'query') found.push({ where: `variable ${variable.name}`, expr: variable.query.query });
  }
  return found;
}

const NOT_METRICS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset']);

/**
 * The metric names a PromQL expression reads: identifiers left once label matchers, ranges,
 * strings, grouping clauses and function calls are removed.
 */
function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, ' ')
    .replace(/,\s*[a-zA-Z_]\w*\s*\)/g, ')'); // the label argument of label_values(metric, label)
  return [...stripped.matchAll(/([a-zA-Z_:][\w:]*)\s*(\()?/g)].filter((m) => !m[2] && !NOT_METRICS.has(m[1]!)).map((m) => m[1]!);
}

describe('grafana/litestream-ts.json', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8'));
  const registered = new Set(new PrometheusMetrics().metricNames());

  it('queries only metrics that PrometheusMetrics registers', () => {
    const all = queries(dashboard);
    expect(all.length).toBeGreaterThan(10);
    for (const { where, expr } of all) {
      const names = metricNames(expr);
      expect(names.length, `${where}: ${expr}`).toBeGreaterThan(0);
      for (const name of names) expect(registered.has(name), `${where} queries unknown metric ${name}`).toBe(true);
    }
  });

  it('shows every litestream metric PrometheusMetrics registers', () => {
    const shown = new Set(queries(dashboard).flatMap(({ expr }) => metricNames(expr)));
    const missing = [...registered].filter((name) => name.startsWith('litestream_') && !shown.has(name));
    expect(missing).toEqual([]);
  });

  it('reads from the ${DS_PROMETHEUS} import input', () => {
    expect(dashboard.__inputs).toContainEqual(expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }));
    for (const panel of dashboard.panels.filter((p: any) => p.type !== 'row')) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${DS_PROMETHEUS}' });
      for (const target of panel.targets) expect(target.datasource.uid, panel.title).toBe('${DS_PROMETHEUS}');
    }
  });

  it('has unique panel ids', () => {
    const ids = dashboard.panels.map((p: any) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('extracts metric names from PromQL as expected (the checker itself)', () => {
    expect(metricNames('sum by (db, mode) (rate(litestream_checkpoint_count{db=~"$db",x="a{b}"}[$__rate_interval])) / sum(rate(litestream_sync_count[5m]))')).toEqual([
      'litestream_checkpoint_count',
      'litestream_sync_count',
    ]);
    expect(metricNames('label_values(litestream_db_size{job=~"$job"}, db)')).toEqual(['litestream_db_size']);
  });
});

export { PrometheusMetrics, type PrometheusMetricsOptions } from './prometheus-metrics.ts';
export { startMetricsServer, type MetricsServer } from './metrics-server.ts';
export { parseListenAddress, type ListenAddress } from './listen-address.ts';

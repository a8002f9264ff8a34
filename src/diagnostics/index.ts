/** Training diagnostics: gradient/activation monitoring through hooks, detectors, run logs and reports. */
export { GradientMonitor, type MonitorOptions, type MonitoredOptimizer } from './monitor.js';
export {
  type Finding,
  type FindingKind,
  type Histogram,
  type LayerRecord,
  type ParamRecord,
  type MonitorRecord,
  type DetectorOptions,
  detect,
  sparkline,
} from './report.js';
export { type EpochRecord, type RunHeader, type RunLog, RUN_LOG_FORMAT, parseRunLog } from './run-log.js';
export { type HtmlReportOptions, htmlReport } from './html-report.js';

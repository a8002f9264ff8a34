/** Training diagnostics: gradient/activation monitoring through hooks, detectors, reports. */
export { GradientMonitor, type MonitorOptions, type MonitoredOptimizer } from './monitor.js';
export {
  type Finding,
  type FindingKind,
  type LayerRecord,
  type ParamRecord,
  type MonitorRecord,
  type DetectorOptions,
  detect,
  sparkline,
} from './report.js';

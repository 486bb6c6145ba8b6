export { createProgress, type ProgressOptions } from './create-progress.ts';
export type { Progress } from './progress.ts';
export { formatBytes, formatDuration, formatRate } from './human-units.ts';

export { dryRunPanel, type DryRunPanelInput } from './panel.js';
export { dryRunCompare, dryRunRank, dryRunScore, type DryRunJudge, type DryRunPlan } from './plan.js';
export { formatDryRun } from './format.js';

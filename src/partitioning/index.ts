export { PartitionTable, COPY_STATE_RANK, type Copy, type HeldPartitions } from './table.js';
export { advance, pendingFailovers, reportStatusIn, type AdvanceResult, type AdvanceCounts, type AdvanceInputs, type OutOfSyncRequests, type CopyReportEntry, type CopyReports, type FenceAnswer, type FenceAnswers, type PendingFailover } from './copy-states.js';
export { memberIdFor, isPlaceable, PLACEABLE_STATES, type Member } from './member.js';
export { partitionOfSlot, slotRange, MAX_PARTITIONS } from './partitions.js';
export {
  planTable,
  diffTables,
  DEFAULT_PLANNER_OPTIONS,
  PLACEMENT_STRATEGIES,
  resolvePlannerOptions,
  type PlacementStrategy,
  type PlannerOptions,
  type PlanResult,
  type MigrationPlan,
  type PartitionMove,
  type PartitionEviction,
} from './planner.js';

export { PartitionTable } from './table.js';
export { memberIdFor, isPlaceable, PLACEABLE_STATES, type Member } from './member.js';
export { partitionOfSlot, slotRange, MAX_PARTITIONS } from './partitions.js';
export { planTable, diffTables, DEFAULT_PLANNER_OPTIONS, resolvePlannerOptions, type PlannerOptions, type PlanResult, type MigrationPlan, type PartitionMove } from './planner.js';

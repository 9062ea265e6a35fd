export const Priority = {
  CRITICAL: 'critical',
  HIGH: 'high',
  MEDIUM: 'medium',
  LOW: 'low',
} as const;
export type Priority = (typeof Priority)[keyof typeof Priority];

/** Highest first: the order in which work is taken. */
export const PRIORITIES = [Priority.CRITICAL, Priority.HIGH, Priority.MEDIUM, Priority.LOW] as const;
export const DEFAULT_PRIORITY: Priority = Priority.MEDIUM;

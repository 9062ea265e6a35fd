import { describe, expect, it } from 'vitest';
import { EVENT_SOURCE, SLOT_FREEING_EVENTS } from '../../functions/core/events.ts';
import { RULES } from '../../functions/declarations/events.ts';
import { ADMISSION_QUEUE } from '../../functions/declarations/queues.ts';
import { matchesPattern } from '../../local/event-pattern.ts';

const rule = RULES.find((r) => r.target === ADMISSION_QUEUE)!;
const release = (type: string, data: Record<string, unknown>) => ({ source: EVENT_SOURCE, 'detail-type': type, detail: { type, data } });

/** The AdmissionRule as EventBridge evaluates it (the local matcher implements its pattern language). */
describe('The admission rule', () => {
  it('passes a freed slot while runs are parked, and every freeing event type', () => {
    for (const type of SLOT_FREEING_EVENTS) {
      expect(matchesPattern(rule.pattern, release(type, { previousStatus: 'RUNNING', admitNext: true }))).toBe(true);
    }
  });

  it('holds back a freed slot that nobody waited for', () => {
    expect(matchesPattern(rule.pattern, release('JobSucceeded', { previousStatus: 'RUNNING', admitNext: false }))).toBe(false);
  });

  it('passes an event committed before admitNext existed: it may be a parked run\'s only wake-up', () => {
    expect(matchesPattern(rule.pattern, release('JobFailed', { previousStatus: 'DISPATCHED' }))).toBe(true);
  });

  it('holds back events of jobs that held no slot', () => {
    expect(matchesPattern(rule.pattern, release('JobCancelled', { previousStatus: 'QUEUED', admitNext: true }))).toBe(false);
    expect(matchesPattern(rule.pattern, release('JobRunning', { previousStatus: 'DISPATCHED', admitNext: true }))).toBe(false);
  });
});

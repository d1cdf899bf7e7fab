import type { SimAccount, SimSchedule, SimScheduleLayer } from './model.ts';
import { localDayNumber, localTimeToUtc } from './time.ts';

const WEEK_DAYS = 7;
/** Longer than one weekly turn plus the longest generated override. */
const RENDER_MARGIN_MS = 9 * 86_400_000;

export interface Shift {
  userId: string;
  startMs: number;
  endMs: number;
}

/** Returns the local day of the first handoff at or after the layer's start. */
function firstHandoffDay(layer: SimScheduleLayer, timeZone: string): number {
  const startDay = localDayNumber(layer.start.getTime(), timeZone);
  // 1970-01-01 was a Thursday (weekday 4).
  const weekday = (((startDay + 4) % WEEK_DAYS) + WEEK_DAYS) % WEEK_DAYS;
  return startDay + ((layer.handoffWeekday - weekday + WEEK_DAYS) % WEEK_DAYS);
}

/** Weekly turns of a layer overlapping [sinceMs, untilMs), each handed off at local wall-clock time. */
export function layerShifts(layer: SimScheduleLayer, timeZone: string, sinceMs: number, untilMs: number): Shift[] {
  if (layer.userIds.length === 0 || untilMs <= sinceMs) return [];
  const firstDay = firstHandoffDay(layer, timeZone);
  const sinceDay = localDayNumber(sinceMs, timeZone);
  let turn = Math.max(0, Math.floor((sinceDay - firstDay) / WEEK_DAYS) - 1);

  const shifts: Shift[] = [];
  for (;;) {
    const startMs = localTimeToUtc(firstDay + turn * WEEK_DAYS, layer.handoffHour, timeZone);
    const endMs = localTimeToUtc(firstDay + (turn + 1) * WEEK_DAYS, layer.handoffHour, timeZone);
    if (startMs >= untilMs) break;
    if (endMs > sinceMs) {
      const userId = layer.userIds[turn % layer.userIds.length] as string;
      shifts.push({ userId, startMs: Math.max(startMs, sinceMs), endMs: Math.min(endMs, untilMs) });
    }
    turn += 1;
  }
  return shifts;
}

/** Computes the final schedule: the layer's turns with overrides laid over them, clipped to the window. */
export function finalShifts(schedule: SimSchedule, sinceMs: number, untilMs: number): Shift[] {
  const overrides = schedule.overrides
    .filter((override) => override.end.getTime() > sinceMs && override.start.getTime() < untilMs)
    .map((override) => ({ userId: override.userId, startMs: Math.max(override.start.getTime(), sinceMs), endMs: Math.min(override.end.getTime(), untilMs) }))
    .sort((a, b) => a.startMs - b.startMs);

  const result: Shift[] = [];
  for (const shift of layerShifts(schedule.layer, schedule.timeZone, sinceMs, untilMs)) {
    let cursor = shift.startMs;
    for (const override of overrides) {
      if (override.endMs <= cursor || override.startMs >= shift.endMs) continue;
      if (override.startMs > cursor) result.push({ userId: shift.userId, startMs: cursor, endMs: override.startMs });
      cursor = Math.max(cursor, override.endMs);
    }
    if (cursor < shift.endMs) result.push({ userId: shift.userId, startMs: cursor, endMs: shift.endMs });
  }
  result.push(...overrides);
  result.sort((a, b) => a.startMs - b.startMs || (a.userId < b.userId ? -1 : 1));
  return mergeAdjacent(result);
}

function mergeAdjacent(shifts: Shift[]): Shift[] {
  const merged: Shift[] = [];
  for (const shift of shifts) {
    const previous = merged[merged.length - 1];
    if (previous !== undefined && previous.userId === shift.userId && previous.endMs >= shift.startMs) previous.endMs = Math.max(previous.endMs, shift.endMs);
    else merged.push({ ...shift });
  }
  return merged;
}

export interface OnCallEntry {
  escalationPolicyId: string;
  escalationLevel: number;
  scheduleId: string | null;
  userId: string;
  /** Null start and end: a person an escalation rule targets directly is on call permanently. */
  startMs: number | null;
  endMs: number | null;
}

/** Lists every on-call entry of every escalation policy in [sinceMs, untilMs). */
export function onCallEntries(account: SimAccount, sinceMs: number, untilMs: number): OnCallEntry[] {
  const schedules = new Map(account.schedules.map((schedule) => [schedule.id, schedule]));
  const entries: OnCallEntry[] = [];
  for (const policy of account.escalationPolicies) {
    policy.rules.forEach((rule, ruleIndex) => {
      for (const target of rule.targets) {
        if (target.type === 'user_reference') {
          entries.push({ escalationPolicyId: policy.id, escalationLevel: ruleIndex + 1, scheduleId: null, userId: target.id, startMs: null, endMs: null });
          continue;
        }
        const schedule = schedules.get(target.id);
        if (schedule === undefined) continue;
        // An instant window (since = until) requests who is on call at that instant. Shifts keep their
        // own start and end, so the schedule is rendered a full turn beyond the window on each side.
        const windowEnd = untilMs > sinceMs ? untilMs : sinceMs + 1;
        const shifts = finalShifts(schedule, sinceMs - RENDER_MARGIN_MS, windowEnd + RENDER_MARGIN_MS).filter((shift) => shift.endMs > sinceMs && shift.startMs < windowEnd);
        for (const shift of shifts) {
          entries.push({ escalationPolicyId: policy.id, escalationLevel: ruleIndex + 1, scheduleId: schedule.id, userId: shift.userId, startMs: shift.startMs, endMs: shift.endMs });
        }
      }
    });
  }
  return entries;
}

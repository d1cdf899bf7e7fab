import { describe, expect, it } from 'vitest';
import { auditActionLabel } from './audit-labels.ts';

describe('audit action labels', () => {
  it('names PagerDuty actions', () => {
    expect(auditActionLabel('pagerduty.connected')).toBe('PagerDuty connected');
    expect(auditActionLabel('pagerduty.invite_sent')).toBe('PagerDuty admin invited to connect');
  });

  it('words an unknown action', () => {
    expect(auditActionLabel('report.generated')).toBe('Report generated');
    expect(auditActionLabel('toString')).toBe('ToString');
  });
});

import { describe, expect, it } from 'vitest';
import { humanize, pagerDutyRoleLabel } from './labels.ts';

describe('pagerDutyRoleLabel', () => {
  it.each([
    ['owner', 'Account Owner'],
    ['admin', 'Global Admin'],
    ['user', 'Manager'],
    ['limited_user', 'Responder'],
    ['observer', 'Observer'],
    ['restricted_access', 'Restricted Access'],
    ['read_only_user', 'Stakeholder'],
    ['read_only_limited_user', 'Limited Stakeholder'],
  ])('names role %s', (role, label) => {
    expect(pagerDutyRoleLabel(role)).toBe(label);
  });

  it('humanizes an unknown role', () => {
    expect(pagerDutyRoleLabel('team_lead')).toBe(humanize('team_lead'));
    expect(pagerDutyRoleLabel('team_lead')).not.toBe('team_lead');
  });
});

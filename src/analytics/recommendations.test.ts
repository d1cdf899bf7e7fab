import { describe, expect, it } from 'vitest';
import {
  buildRecommendations,
  computeEffectiveDate,
  type ContractTerms,
  type RecommendationCandidate,
  type RecommendationInput,
} from './recommendations.ts';
import { daysBefore } from './scope.ts';

const AS_OF = new Date('2026-06-15T12:00:00Z');

const CONTRACT: ContractTerms = {
  currency: 'USD',
  billingPeriod: 'monthly',
  renewalDate: null,
  noticePeriodDays: 0,
  lines: [
    { licenseName: 'Business (Full User)', roleGroup: 'FullUser', pricePerSeatMinor: 4_100 },
    { licenseName: 'Business (Stakeholder)', roleGroup: 'Stakeholder', pricePerSeatMinor: 300 },
  ],
};

function candidate(overrides: Partial<RecommendationCandidate>): RecommendationCandidate {
  return {
    externalId: 'P1',
    name: 'Pat',
    email: 'pat@example.com',
    role: 'user',
    licenseId: 'LFULL',
    licenseName: 'Business (Full User)',
    roleGroup: 'FullUser',
    invitationSent: false,
    isInvitedNeverSignedUp: false,
    createdAt: null,
    lastActivityAt: daysBefore(AS_OF, 2),
    lastActivitySignal: 'incident_action',
    responderActions: 4,
    onCallShifts: 0,
    configurationChanges: 0,
    stakeholderSubscriptions: 0,
    escalationPolicyIds: [],
    scheduleIds: [],
    upcomingShiftCount: 0,
    isPermanentOnCall: false,
    openIncidentCount: 0,
    strandedLevels: [],
    strandedSchedules: [],
    ...overrides,
  };
}

function input(candidates: RecommendationCandidate[], overrides: Partial<RecommendationInput> = {}): RecommendationInput {
  return {
    asOf: AS_OF,
    unusedDays: 90,
    contract: CONTRACT,
    exemptEmails: new Set(),
    adminCount: 2,
    stakeholderSeatsAvailable: 5,
    seatBasis: 'license',
    candidates,
    ...overrides,
  };
}

describe('buildRecommendations', () => {
  it('skips active responders', () => {
    expect(buildRecommendations(input([candidate({})]))).toEqual([]);
  });

  it('waits a window for new people', () => {
    const invited = { invitationSent: true, isInvitedNeverSignedUp: true, lastActivityAt: null, lastActivitySignal: null, responderActions: 0 };
    expect(buildRecommendations(input([candidate({ ...invited, createdAt: daysBefore(AS_OF, 10) })]))).toEqual([]);
    expect(buildRecommendations(input([candidate({ lastActivityAt: null, responderActions: 0, createdAt: daysBefore(AS_OF, 10) })]))).toEqual([]);
    expect(buildRecommendations(input([candidate({ responderActions: 0, createdAt: daysBefore(AS_OF, 10) })]))).toEqual([]);

    const [invitation] = buildRecommendations(input([candidate({ ...invited, createdAt: daysBefore(AS_OF, 91) })]));
    expect(invitation?.kind).toBe('remove_invitation');
    const [reclaim] = buildRecommendations(input([candidate({ lastActivityAt: null, responderActions: 0, createdAt: daysBefore(AS_OF, 91) })]));
    expect(reclaim?.kind).toBe('reclaim_seat');
  });

  it('reclaims an unused seat', () => {
    const [recommendation] = buildRecommendations(input([candidate({ lastActivityAt: daysBefore(AS_OF, 91), responderActions: 0 })]));
    expect(recommendation?.kind).toBe('reclaim_seat');
    expect(recommendation?.status).toBe('ready');
    expect(recommendation?.yearlySavingMinor).toBe(49_200);
    expect(recommendation?.currency).toBe('USD');
    expect(recommendation?.effectiveDate).toBe('2026-07-01');
    expect(recommendation?.evidence).toMatchObject({ windowDays: 90, lastActivityAt: daysBefore(AS_OF, 91).toISOString() });
    expect(recommendation?.guardrails).toEqual([]);
  });

  it('reclaims a never active seat', () => {
    const [recommendation] = buildRecommendations(input([candidate({ lastActivityAt: null, responderActions: 0 })]));
    expect(recommendation?.kind).toBe('reclaim_seat');
  });

  it('honours a shorter unused window', () => {
    const person = candidate({ lastActivityAt: daysBefore(AS_OF, 31), responderActions: 0 });
    expect(buildRecommendations(input([person], { unusedDays: 30 }))[0]?.kind).toBe('reclaim_seat');
    expect(buildRecommendations(input([person], { unusedDays: 60 }))[0]?.kind).toBe('downgrade_to_stakeholder');
  });

  it('downgrades a watcher to stakeholder', () => {
    const [recommendation] = buildRecommendations(input([candidate({ responderActions: 0, lastActivitySignal: 'sign_in' })]));
    expect(recommendation?.kind).toBe('downgrade_to_stakeholder');
    expect(recommendation?.yearlySavingMinor).toBe((4_100 - 300) * 12);
    expect(recommendation?.status).toBe('ready');
  });

  it('keeps on-call people as full users', () => {
    const onCall = candidate({ responderActions: 0, onCallShifts: 3 });
    const onPolicy = candidate({ externalId: 'P2', responderActions: 0, escalationPolicyIds: ['PEP1'] });
    const permanent = candidate({ externalId: 'P3', responderActions: 0, isPermanentOnCall: true });
    const configurer = candidate({ externalId: 'P4', responderActions: 0, configurationChanges: 2 });
    expect(buildRecommendations(input([onCall, onPolicy, permanent, configurer]))).toEqual([]);
  });

  it('never downgrades stakeholders', () => {
    const watcher = candidate({ responderActions: 0, licenseName: 'Business (Stakeholder)', roleGroup: 'Stakeholder' });
    expect(buildRecommendations(input([watcher]))).toEqual([]);
  });

  it('downgrades an inactive subscriber', () => {
    const [recommendation] = buildRecommendations(input([candidate({ lastActivityAt: null, responderActions: 0, stakeholderSubscriptions: 2 })]));
    expect(recommendation?.kind).toBe('downgrade_to_stakeholder');
    expect(recommendation?.yearlySavingMinor).toBe((4_100 - 300) * 12);
    expect(recommendation?.evidence).toMatchObject({ stakeholderSubscriptions: 2, lastActivityAt: null });
  });

  it('keeps a subscribed stakeholder seat', () => {
    const subscriber = candidate({ lastActivityAt: null, responderActions: 0, licenseName: 'Business (Stakeholder)', roleGroup: 'Stakeholder', stakeholderSubscriptions: 1 });
    expect(buildRecommendations(input([subscriber]))).toEqual([]);
    const [unsubscribed] = buildRecommendations(input([{ ...subscriber, stakeholderSubscriptions: 0 }]));
    expect(unsubscribed?.kind).toBe('reclaim_seat');
  });

  it('cleans up pending invitations', () => {
    const [recommendation] = buildRecommendations(
      input([candidate({ invitationSent: true, isInvitedNeverSignedUp: true, lastActivityAt: null, responderActions: 0 })]),
    );
    expect(recommendation?.kind).toBe('remove_invitation');
    expect(recommendation?.evidence).toMatchObject({ invitationSent: true });
    expect(recommendation?.yearlySavingMinor).toBe(49_200);
  });

  it('ignores people without a license', () => {
    expect(buildRecommendations(input([candidate({ licenseId: null, licenseName: null, roleGroup: null, lastActivityAt: null })]))).toEqual([]);
  });

  it('recommends seats by role', () => {
    const byRole = { licenseId: null, licenseName: null, lastActivityAt: null, role: 'limited_user' };
    const [recommendation] = buildRecommendations(input([candidate(byRole)], { seatBasis: 'role', stakeholderSeatsAvailable: null }));
    expect(recommendation?.kind).toBe('reclaim_seat');
    expect(recommendation?.licenseId).toBeNull();
    expect(recommendation?.licenseName).toBe('Full User (by role)');
    expect(recommendation?.yearlySavingMinor).toBe(4_100 * 12);
    expect(recommendation?.evidence).toMatchObject({ license: 'Full User (by role)', seatBasis: 'role' });
    expect(recommendation?.status).toBe('flagged');
    expect(recommendation?.guardrails).toEqual([expect.objectContaining({ code: 'seat_by_role', severity: 'flag' })]);
    expect(recommendation?.guardrails[0]?.message).toContain('Responder role');
  });

  it('skips roles without a seat type', () => {
    const unknownRole = { licenseId: null, licenseName: null, roleGroup: null, lastActivityAt: null };
    expect(buildRecommendations(input([candidate(unknownRole)], { seatBasis: 'role' }))).toEqual([]);
  });

  it('leaves saving unknown without contract', () => {
    const [recommendation] = buildRecommendations(input([candidate({ lastActivityAt: null })], { contract: null }));
    expect(recommendation?.yearlySavingMinor).toBeNull();
    expect(recommendation?.currency).toBeNull();
  });

  it('matches prices by role group', () => {
    const contract: ContractTerms = { ...CONTRACT, billingPeriod: 'annual', lines: [{ licenseName: 'Full seats', roleGroup: 'FullUser', pricePerSeatMinor: 50_000 }] };
    const [reclaim] = buildRecommendations(input([candidate({ lastActivityAt: null })], { contract }));
    expect(reclaim?.yearlySavingMinor).toBe(50_000);
    const [downgrade] = buildRecommendations(input([candidate({ responderActions: 0 })], { contract }));
    expect(downgrade?.yearlySavingMinor).toBeNull();
  });
});

describe('recommendation guardrails', () => {
  const unused = { lastActivityAt: null, responderActions: 0 };

  const cases: Array<[string, Partial<RecommendationCandidate>, Partial<RecommendationInput>]> = [
    ['exempt', { email: 'Pat@Example.com' }, { exemptEmails: new Set(['pat@example.com']) }],
    ['account_owner', { role: 'owner' }, {}],
    ['last_admin', { role: 'admin' }, { adminCount: 1 }],
    ['open_incidents', { openIncidentCount: 2 }, {}],
    ['strands_escalation_level', { strandedLevels: ['PEP1#1'], escalationPolicyIds: ['PEP1'] }, {}],
    ['strands_schedule', { strandedSchedules: ['PSCHED'], scheduleIds: ['PSCHED'] }, {}],
    ['permanent_on_call', { isPermanentOnCall: true }, {}],
    ['upcoming_on_call', { upcomingShiftCount: 4 }, {}],
  ];
  it.each(cases)('blocks on %s', (code, overrides, inputOverrides) => {
    const [recommendation] = buildRecommendations(input([candidate({ ...unused, ...overrides })], inputOverrides));
    expect(recommendation?.status).toBe('blocked');
    expect(recommendation?.guardrails.map((guardrail) => guardrail.code)).toContain(code);
    expect(recommendation?.guardrails.find((guardrail) => guardrail.code === code)?.severity).toBe('block');
  });

  it('lets an admin go when others remain', () => {
    const [recommendation] = buildRecommendations(input([candidate({ ...unused, role: 'admin' })], { adminCount: 3 }));
    expect(recommendation?.status).toBe('ready');
  });

  it('flags shared escalation policy membership', () => {
    const [recommendation] = buildRecommendations(input([candidate({ ...unused, escalationPolicyIds: ['PEP1'] })]));
    expect(recommendation?.status).toBe('flagged');
    expect(recommendation?.guardrails).toEqual([expect.objectContaining({ code: 'on_escalation_policy', severity: 'flag' })]);
  });

  it('flags downgrade without stakeholder seats', () => {
    const [recommendation] = buildRecommendations(input([candidate({ responderActions: 0 })], { stakeholderSeatsAvailable: 0 }));
    expect(recommendation?.kind).toBe('downgrade_to_stakeholder');
    expect(recommendation?.status).toBe('flagged');
    expect(recommendation?.guardrails.map((guardrail) => guardrail.code)).toEqual(['no_stakeholder_seat']);
  });
});

describe('computeEffectiveDate', () => {
  it('starts next month without contract', () => {
    expect(computeEffectiveDate(new Date('2026-12-31T23:59:59Z'), null)).toBe('2027-01-01');
    expect(computeEffectiveDate(new Date('2026-06-01T00:00:00Z'), null)).toBe('2026-07-01');
  });

  it('waits for an annual renewal', () => {
    const annual: ContractTerms = { ...CONTRACT, billingPeriod: 'annual', renewalDate: '2026-09-01', noticePeriodDays: 30 };
    expect(computeEffectiveDate(AS_OF, annual)).toBe('2026-09-01');
  });

  it('rolls over a missed notice deadline', () => {
    const annual: ContractTerms = { ...CONTRACT, billingPeriod: 'annual', renewalDate: '2026-07-01', noticePeriodDays: 30 };
    expect(computeEffectiveDate(AS_OF, annual)).toBe('2027-07-01');
  });

  it('keeps a leap day renewal in February', () => {
    const annual: ContractTerms = { ...CONTRACT, billingPeriod: 'annual', renewalDate: '2024-02-29', noticePeriodDays: 0 };
    expect(computeEffectiveDate(AS_OF, annual)).toBe('2027-02-28');
    expect(computeEffectiveDate(new Date('2027-06-15T12:00:00Z'), annual)).toBe('2028-02-29');
  });

  it('accepts the deadline day itself', () => {
    const annual: ContractTerms = { ...CONTRACT, billingPeriod: 'annual', renewalDate: '2026-07-15', noticePeriodDays: 30 };
    expect(computeEffectiveDate(AS_OF, annual)).toBe('2026-07-15');
  });
});

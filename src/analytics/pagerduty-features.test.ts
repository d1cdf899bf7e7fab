import { describe, expect, it } from 'vitest';
import { PAGERDUTY_FEATURES } from './pagerduty-features.ts';

describe('PagerDuty feature catalogue', () => {
  const requirements = PAGERDUTY_FEATURES.flatMap((feature) => (feature.requirement === null ? [] : [{ key: feature.key, requirement: feature.requirement }]));

  it.each(requirements)('$key requirement reads as words', ({ requirement }) => {
    // Scopes (subscribers.read) and ability names (coordinated_responding) are API identifiers.
    expect(requirement).not.toMatch(/[a-z]+_[a-z]+|[a-z]+\.[a-z]+/);
    expect(requirement).not.toMatch(/\bability\b/i);
  });
});

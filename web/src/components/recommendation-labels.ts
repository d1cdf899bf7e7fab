import type { RecommendationKind, RecommendationStatus } from '../api-types.ts';

export const RECOMMENDATION_KIND_LABELS: Record<RecommendationKind, { title: string; action: string }> = {
  reclaim_seat: { title: 'Reclaim unused seats', action: 'Reclaim seat' },
  downgrade_to_stakeholder: { title: 'Downgrade to Stakeholder', action: 'Downgrade to Stakeholder' },
  remove_invitation: { title: 'Remove unanswered invitations', action: 'Remove invitation' },
};

export const RECOMMENDATION_STATUS_LABELS: Record<RecommendationStatus, string> = {
  ready: 'Ready',
  flagged: 'Check first',
  blocked: 'Blocked',
};

export function recommendationKindLabel(kind: string): string {
  return kind in RECOMMENDATION_KIND_LABELS ? RECOMMENDATION_KIND_LABELS[kind as RecommendationKind].action : kind;
}

export function recommendationStatusLabel(status: string): string {
  return status in RECOMMENDATION_STATUS_LABELS ? RECOMMENDATION_STATUS_LABELS[status as RecommendationStatus] : status;
}

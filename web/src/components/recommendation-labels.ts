// The server's CSV exports use the same words, so both read them from one place.
export { RECOMMENDATION_KIND_LABELS, RECOMMENDATION_STATUS_LABELS, recommendationKindLabel, recommendationStatusLabel } from '../../../src/exports/labels.ts';

import { newEventId } from '../ids.ts';

/** A worker id: `w-` and a lowercase ULID (Crockford's alphabet, no i, l, o or u): sortable, and a valid execution name. */
export const WORKER_ID_PATTERN = /^w-[0-9a-hjkmnp-tv-z]{26}$/;

export const newWorkerId = () => `w-${newEventId().toLowerCase()}`;

import type * as z from 'zod';
import type { ROLES } from '../core/roles.ts';
import type { ErrorCode } from './http.ts';

/** The groups of operations, in the document's order, with what each holds. */
export const API_TAGS = {
  Jobs: 'Submit jobs, read them, their history and output, cancel and retry them',
  Queues: "Job counters: the tenant's own, or the platform's",
  Webhooks: "Signed job callbacks (the tenant's signing secret, each delivery attempt) and worker alerts",
  Workers: 'The worker fleet: platform administrators run it, operators see it',
  Platform: 'Health and this description; no token needed',
} as const;
export type ApiTag = keyof typeof API_TAGS;

export type Role = (typeof ROLES)[keyof typeof ROLES];

export interface ResponseDoc {
  description: string;
  /** The body; absent for an empty one (204). */
  body?: z.ZodType;
  /** Default `application/json`. */
  mediaType?: string;
  /** Response headers, each with its description in `.meta`. */
  headers?: z.ZodObject;
  example?: unknown;
  /** Other media types the same status may answer with, chosen by the request (e.g. `text/event-stream`). */
  also?: Readonly<Record<string, { body: z.ZodType; example?: unknown }>>;
}

export interface RequestBodyDoc {
  /** The schema the handler parses the body with. */
  schema: z.ZodType;
  /** Whether the handler reads it with `{ required: true }` (an empty body is 400 BODY_REQUIRED). */
  required: boolean;
  description?: string;
  example?: unknown;
}

/**
 * What the OpenAPI document says of one route (functions/api/openapi.ts turns it into an operation). The schemas are
 * the ones the handler validates with, so the document cannot describe rules the code does not keep.
 */
export interface RouteDoc {
  /** Unique, camelCase: client generators name their methods after it. */
  operationId: string;
  summary: string;
  description?: string;
  tag: ApiTag;
  /**
   * The roles (token groups) that may call it; absent, any authenticated caller of the tenant. The use case enforces
   * them (403 FORBIDDEN); this says who to expect.
   */
  roles?: readonly Role[];
  /** Path parameters, named as in the path template. */
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** Request headers the route reads. */
  headers?: z.ZodObject;
  body?: RequestBodyDoc;
  /** Every success status the handler answers with. */
  responses: Readonly<Record<number, ResponseDoc>>;
  /**
   * The error codes this route raises itself. Those every route of its kind answers are added by the generator:
   * authentication, the tenant rate limit, body, query and path errors, and INTERNAL_ERROR.
   */
  errors?: readonly ErrorCode[];
}

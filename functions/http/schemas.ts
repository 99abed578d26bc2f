/** Schemas shared by several route modules (problem documents, ids, pagination). */
import { PROBLEMS, type ProblemCode } from "./problems";
import * as z from "./zod";

/** A UUID in any letter case, answered and compared in lower case (ids are stored lower case). */
export const Uuid = z.uuid({ message: "must be a UUID" }).toLowerCase();

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string(),
    detail: z.string().optional(),
    requestId: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
    limit: z.string().optional().openapi({
      description:
        "429 only: the rule that refused (password_account_network, password_account, password_network, mfa_user, mfa_user_daily, mfa_network, register_network, email_messages)",
    }),
  })
  .openapi("Problem");

type ProblemEntry = {
  description: string;
  content: { "application/problem+json": { schema: typeof ProblemSchema } };
};

/** OpenAPI response entries of problem codes `C`, keyed by their literal statuses. */
export type ProblemResponses<C extends ProblemCode> = {
  [K in C as (typeof PROBLEMS)[K]["status"]]: ProblemEntry;
};

/**
 * OpenAPI response entries for the given problem codes, grouped by status. Typed with the
 * literal statuses (401, 409…) so typed clients see a problem document exactly there.
 */
export function problemResponses<C extends ProblemCode>(...codes: C[]): ProblemResponses<C> {
  const byStatus: Record<string, ProblemEntry> = {};
  for (const code of codes) {
    const problem: { status: number; code?: string } = PROBLEMS[code];
    const status = String(problem.status);
    const wire = problem.code ?? code; // the code the document carries
    const entry = byStatus[status];
    if (entry) entry.description += `, ${wire}`;
    else
      byStatus[status] = {
        description: `Problem: ${wire}`,
        content: { "application/problem+json": { schema: ProblemSchema } },
      };
  }
  return byStatus as ProblemResponses<C>;
}

/** A JSON response entry for OpenAPI. */
export function jsonResponse<S extends z.ZodType>(description: string, schema: S) {
  return { description, content: { "application/json": { schema } } };
}

/** A JSON request body entry for OpenAPI. */
export function jsonRequest<S extends z.ZodType>(schema: S, required = true) {
  return { body: { required, content: { "application/json": { schema } } } };
}

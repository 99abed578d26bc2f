/**
 * Finishing touches on the generated OpenAPI document, applied where every route's full path is
 * known (after mounting): an `operationId` per operation and `security: []` on public ones.
 */

/** The parts of an operation this module reads or writes. */
interface Operation {
  operationId?: string;
  security?: Record<string, string[]>[];
  [key: string]: unknown;
}

export const HTTP_METHODS = ["get", "put", "post", "delete", "patch", "head", "options", "trace"] as const;

const capitalize = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);
/** `security-events` → `SecurityEvents`. */
const pascal = (segment: string) =>
  segment
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map(capitalize)
    .join("");

/**
 * The operation id a route gets unless its spec names one: the method, then the path without its
 * version prefix, each segment in PascalCase and each parameter as `By<Name>`:
 * `delete /v1/tenants/{tenantId}/members/{userId}` → `deleteTenantsByTenantIdMembersByUserId`.
 * Derived from what already identifies the operation, so it is unique and changes only when the
 * route's method or path does (which breaks clients anyway).
 */
export function operationIdFor(method: string, path: string): string {
  const segments = path
    .split("/")
    .filter((s) => s !== "" && !/^v\d+$/.test(s))
    .map((s) => {
      const param = /^\{(\w+)\}$/.exec(s);
      return param ? `By${capitalize(param[1] as string)}` : pascal(s);
    });
  return method.toLowerCase() + segments.join("");
}

/**
 * Adds the derived `operationId` where the spec gave none, and `security: []` to operations that
 * declare no security, so a reader (and a linter) sees that they are public on purpose. Throws on
 * a duplicate id: the document must never name two operations alike.
 */
export function finishOperations<D extends { paths?: object }>(doc: D): D {
  const seen = new Map<string, string>();
  for (const [path, item] of Object.entries((doc.paths ?? {}) as Record<string, Record<string, unknown>>)) {
    for (const method of HTTP_METHODS) {
      const op = item[method] as Operation | undefined;
      if (!op) continue;
      op.operationId ??= operationIdFor(method, path);
      op.security ??= [];
      const other = seen.get(op.operationId);
      if (other) throw new Error(`duplicate operationId ${op.operationId}: ${other} and ${method} ${path}`);
      seen.set(op.operationId, `${method} ${path}`);
    }
  }
  return doc;
}

// What each kind of API key may do. Every authenticated request is checked against this one
// table; a path it does not cover is answered 404 whatever the key (deny by default: a new
// route is unreachable until a rule here says who may use it).
//
//   applications  the partner's integration: create and follow applications, upload documents,
//                 run verification jobs, manage webhooks and events. It cannot review.
//   review        the bank's operations staff: read applications and their documents, decide
//                 PendingReview cases. The reviewer's identity is the key. Issued by the
//                 engine's operators (admin command, POST /orgs/:id/api-keys), never by the
//                 org itself: a partner cannot make itself a reviewer of its own applicants.
//   read          read-only access to the org's data (auditors, dashboards).
//   admin         the org's key management and settings (/api-keys, /org).
//   operator      the engine's operators: create orgs, decode Temporal payloads. Issued only
//                 with the admin command, never through the API.
export const SCOPES = ['applications', 'review', 'read', 'admin', 'operator'] as const;
export type Scope = (typeof SCOPES)[number];
/** The scopes an org's admin may grant through POST /api-keys (and rotate or revoke). */
export const GRANTABLE_SCOPES = ['applications', 'read', 'admin'] as const satisfies readonly Scope[];
/** The scopes an operator may grant an org's key through POST /orgs/:id/api-keys. */
export const OPERATOR_GRANTABLE_SCOPES = ['applications', 'review', 'read', 'admin'] as const satisfies readonly Scope[];
/** Whether an org's admin manages this key (not one the operators issued with review or operator rights). */
export const managedByOrgAdmin = (scopes: readonly string[]) => scopes.every((s) => (GRANTABLE_SCOPES as readonly string[]).includes(s));
/** The first key of a new org (and BOOTSTRAP_API_TOKEN's): the integration and its key management. */
export const FIRST_KEY_SCOPES: Scope[] = ['applications', 'admin'];

const READERS: Scope[] = ['applications', 'review', 'read'];

interface Rule {
  methods: readonly string[];
  path: RegExp;
  /** Any one of these scopes is enough. */
  anyOf: readonly Scope[];
}
const GET = ['GET', 'HEAD'];
const WRITE = ['POST', 'PATCH', 'PUT', 'DELETE'];

const RULES: Rule[] = [
  { methods: ['POST'], path: /^\/applications\/[^/]+\/review$/, anyOf: ['review'] },
  { methods: GET, path: /^\/applications(\/.*)?$/, anyOf: READERS },
  // Erasure on request: the partner's integration, or the org's admin answering a data subject.
  { methods: ['POST'], path: /^\/applications\/[^/]+\/redact$/, anyOf: ['applications', 'admin'] },
  { methods: WRITE, path: /^\/applications(\/.*)?$/, anyOf: ['applications'] },
  { methods: GET, path: /^\/verification-jobs(\/.*)?$/, anyOf: READERS },
  { methods: GET, path: /^\/(webhooks|events)(\/.*)?$/, anyOf: ['applications', 'read'] },
  { methods: WRITE, path: /^\/(verification-jobs|webhooks|events)(\/.*)?$/, anyOf: ['applications'] },
  { methods: [...GET, ...WRITE], path: /^\/(api-keys|org)(\/.*)?$/, anyOf: ['admin'] },
  { methods: [...GET, ...WRITE], path: /^\/(orgs|codec)(\/.*)?$/, anyOf: ['operator'] },
];

/**
 * The scopes of which a request needs one; null when no rule covers it (no such route for any
 * key). The path is matched as express routes it: case-insensitively, a trailing slash ignored.
 */
export function scopesFor(method: string, path: string): readonly Scope[] | null {
  const routed = path.toLowerCase().replace(/\/+$/, '') || '/';
  return RULES.find((r) => r.methods.includes(method) && r.path.test(routed))?.anyOf ?? null;
}

export const isScope = (s: string): s is Scope => (SCOPES as readonly string[]).includes(s);

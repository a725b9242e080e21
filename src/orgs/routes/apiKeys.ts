// Key management for an org's admin (/api-keys, /org) and org creation for the engine's operators (/orgs).
import { Router, type Request, type Response } from 'express';
import type { EngineDeps } from '../../platform/deps';
import { ApiError, notFound, parseOr400 } from '../../platform/http/errors';
import { pageParams, route, sendDocument } from '../../platform/http/jsonApi';
import {
  createKey,
  findKey,
  createOrgWithKey,
  findOrg,
  listKeys,
  revokeKey,
  rotateKey,
  updateOrgSettings,
  type ApiKeyRecord,
  type OrgRecord,
} from '../repository';
import { forgetCachedKey } from './authentication';
import { CreateApiKeyRequest, CreateOrgApiKeyRequest, CreateOrgRequest, PatchOrgRequest } from '../schemas/apiKeys';
import { managedByOrgAdmin, type Scope } from '../scopes';

export function keyResource(k: ApiKeyRecord & { token?: string }) {
  return {
    type: 'apiKey' as const,
    id: k.keyId,
    attributes: {
      name: k.name,
      scopes: k.scopes,
      createdAt: k.createdAt.toISOString(),
      expiresAt: k.expiresAt?.toISOString() ?? null,
      revokedAt: k.revokedAt?.toISOString() ?? null,
      ...(k.token ? { token: k.token } : {}),
    },
  };
}

export const orgResource = (o: OrgRecord) => ({
  type: 'org' as const,
  id: o.orgId,
  attributes: { name: o.name, allowSelfReview: o.allowSelfReview, retention: o.retention, createdAt: o.createdAt.toISOString() },
});

export function apiKeyRoutes({ db }: EngineDeps): Router {
  const router = Router();

  /** Issues a key for `orgId` from a parsed request; the token in this answer only. */
  const issue = async (req: Request, res: Response, orgId: string, a: { name: string; scopes: Scope[]; expiresAt?: string }) => {
    const key = await createKey(db, orgId, {
      name: a.name,
      scopes: a.scopes,
      expiresAt: a.expiresAt ? new Date(a.expiresAt) : null,
      createdByKeyId: req.apiKey.keyId,
    });
    res.setHeader('Cache-Control', 'no-store');
    sendDocument(res, 201, { data: keyResource(key) });
  };
  /** A key of the caller's org that its admin manages (not one the operators issued with review or operator rights). */
  const adminManagedKey = async (req: Request) => {
    const id = String(req.params.id);
    const key = await findKey(db, req.orgId, id);
    if (!key) throw notFound('apiKey', id);
    if (!managedByOrgAdmin(key.scopes))
      throw new ApiError(403, 'Forbidden', `key ${id} (${key.scopes.join(', ')}) is managed by the engine's operators (npm run admin)`, {
        code: 'insufficient_scope',
      });
    return key;
  };

  router.post(
    '/api-keys',
    route(async (req, res) => issue(req, res, req.orgId, parseOr400(CreateApiKeyRequest, req.body).data.attributes)),
  );
  router.post(
    '/orgs/:id/api-keys',
    route(async (req, res) => {
      const orgId = String(req.params.id);
      if (!(await findOrg(db, orgId))) throw notFound('org', orgId);
      await issue(req, res, orgId, parseOr400(CreateOrgApiKeyRequest, req.body).data.attributes);
    }),
  );
  router.get(
    '/api-keys',
    route(async (req, res) => {
      sendDocument(res, 200, { data: (await listKeys(db, req.orgId, pageParams(req.query))).map((k) => keyResource(k)) });
    }),
  );
  router.delete(
    '/api-keys/:id',
    route(async (req, res) => {
      await adminManagedKey(req);
      const key = await revokeKey(db, req.orgId, String(req.params.id));
      if (!key) throw notFound('apiKey', String(req.params.id));
      forgetCachedKey(key.keyId);
      sendDocument(res, 200, { data: keyResource(key) });
    }),
  );
  router.post(
    '/api-keys/:id/rotate',
    route(async (req, res) => {
      await adminManagedKey(req);
      const key = await rotateKey(db, req.orgId, String(req.params.id));
      if (!key) throw notFound('live apiKey', String(req.params.id));
      forgetCachedKey(String(req.params.id));
      res.setHeader('Cache-Control', 'no-store');
      sendDocument(res, 201, { data: keyResource(key) });
    }),
  );

  router.get(
    '/org',
    route(async (req, res) => {
      sendDocument(res, 200, { data: orgResource((await findOrg(db, req.orgId))!) });
    }),
  );
  router.patch(
    '/org',
    route(async (req, res) => {
      const { attributes } = parseOr400(PatchOrgRequest, req.body).data;
      sendDocument(res, 200, { data: orgResource(await updateOrgSettings(db, req.orgId, attributes)) });
    }),
  );

  router.post(
    '/orgs',
    route(async (req, res) => {
      const { name } = parseOr400(CreateOrgRequest, req.body).data.attributes;
      const { org, key } = await createOrgWithKey(db, name);
      res.setHeader('Cache-Control', 'no-store');
      sendDocument(res, 201, { data: orgResource(org), included: [keyResource(key)] });
    }),
  );

  return router;
}

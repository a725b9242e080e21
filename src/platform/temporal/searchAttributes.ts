// Search attributes ops staff filter on in the Temporal Web UI. Registered by the dev
// server launcher and by scripts/register-search-attributes for an existing cluster.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const ApplicationStatusKey = defineSearchAttributeKey('ApplicationStatus', SearchAttributeType.KEYWORD);
export const ApplicationTypeKey = defineSearchAttributeKey('ApplicationType', SearchAttributeType.KEYWORD);
export const OrgIdKey = defineSearchAttributeKey('OrgId', SearchAttributeType.KEYWORD);
export const ApplicationIdKey = defineSearchAttributeKey('ApplicationId', SearchAttributeType.KEYWORD);

export const SEARCH_ATTRIBUTES = [ApplicationStatusKey, ApplicationTypeKey, OrgIdKey, ApplicationIdKey];

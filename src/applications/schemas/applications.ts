// Request and response shapes of /applications, as Unit's API and official SDK use them.
// Attribute objects are strict: an unknown field is a 400 pointing at that field.
import { z } from 'zod';
import { ZodError, type ZodType } from 'zod';
import { fromZod } from '../../platform/http/errors';
import { JSON_API } from '../../platform/http/jsonApi';
import { registry } from '../../platform/openapi/registry';
import { DATABASE_ID } from '../../platform/database/ids';
import { APPLICATION_STATUSES, APPLICATION_TYPES, DOCUMENT_STATUSES, DOCUMENT_TYPES, PERSON_ROLES } from '../domain';

// --- building blocks ---------------------------------------------------------------------

const isCalendarDate = (s: string) => {
  const [y, m, d] = s.split('-').map(Number);
  const dt = new Date(Date.UTC(y, m - 1, d));
  return dt.getUTCFullYear() === y && dt.getUTCMonth() === m - 1 && dt.getUTCDate() === d;
};
export const DateOnly = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date in YYYY-MM-DD format')
  .refine(isCalendarDate, 'is not a real calendar date')
  .refine((s) => s >= '1900-01-01' && s <= new Date().toISOString().slice(0, 10), 'must be between 1900-01-01 and today');

const nonEmpty = z.string().trim().min(1, 'must not be empty');
const Country = z.string().regex(/^[A-Z]{2}$/, 'must be a two-letter ISO 3166-1 alpha-2 country code');

export const FullName = z.object({ first: nonEmpty.max(100), last: nonEmpty.max(100) }).strict();
export const Address = z
  .object({
    street: nonEmpty.max(255),
    street2: z.string().max(255).nullish(),
    city: nonEmpty.max(255),
    state: z.string().max(50).nullish(),
    postalCode: nonEmpty.max(20),
    country: Country,
  })
  .strict()
  .superRefine((a, ctx) => {
    if (a.country === 'US' && !a.state) ctx.addIssue({ code: 'custom', path: ['state'], message: 'is required for US addresses' });
  });
export const Phone = z
  .object({
    countryCode: z.string().regex(/^\d{1,3}$/, 'must be 1–3 digits'),
    number: z.string().regex(/^\d{4,15}$/, 'must be 4–15 digits'),
  })
  .strict();
export const Email = z.email('must be a valid email address').max(255);
export const Ssn = z.string().regex(/^\d{9}$/, 'must be exactly 9 digits');
export const EvaluationParams = z
  .object({
    useSelfieVerification: z.enum(['Never', 'ReplaceIdentification', 'Always']).optional(),
    requireIdVerification: z.boolean().optional(),
  })
  .strict();
const Tags = z.record(z.string().max(128), z.string().max(1000).nullable()).refine((t) => Object.keys(t).length <= 20, 'at most 20 tags');
const DeviceFingerprint = z.object({ provider: nonEmpty.max(100), value: nonEmpty.max(2000) }).strict();
const Occupation = z.enum([
  'ArchitectOrEngineer',
  'BusinessAnalystAccountantOrFinancialAdvisor',
  'CommunityAndSocialServicesWorker',
  'ConstructionMechanicOrMaintenanceWorker',
  'Doctor',
  'Educator',
  'EntertainmentSportsArtsOrMedia',
  'ExecutiveOrManager',
  'FarmerFishermanForester',
  'FoodServiceWorker',
  'GigWorker',
  'HospitalityOfficeOrAdministrativeSupportWorker',
  'HouseholdManager',
  'JanitorHousekeeperLandscaper',
  'Lawyer',
  'ManufacturingOrProductionWorker',
  'MilitaryOrPublicSafety',
  'NurseHealthcareTechnicianOrHealthcareSupport',
  'PersonalCareOrServiceWorker',
  'PilotDriverOperator',
  'SalesRepresentativeBrokerAgent',
  'ScientistOrTechnologist',
  'Student',
]);
const SourceOfIncome = z.enum([
  'EmploymentOrPayrollIncome',
  'PartTimeOrContractorIncome',
  'InheritancesAndGifts',
  'PersonalInvestments',
  'BusinessOwnershipInterests',
  'GovernmentBenefits',
]);
const AnnualIncome = z.enum(['UpTo10k', 'Between10kAnd25k', 'Between25kAnd50k', 'Between50kAnd100k', 'Between100kAnd250k', 'Over250k']);
const Industry = z.enum([
  'Retail',
  'Wholesale',
  'Restaurants',
  'Hospitals',
  'Construction',
  'Insurance',
  'Unions',
  'RealEstate',
  'FreelanceProfessional',
  'OtherProfessionalServices',
  'OnlineRetailer',
  'OtherEducationServices',
]);
const BusinessVertical = z.enum([
  'AdultEntertainmentDatingOrEscortServices',
  'AgricultureForestryFishingOrHunting',
  'ArtsEntertainmentAndRecreation',
  'BusinessSupportOrBuildingServices',
  'Cannabis',
  'Construction',
  'DirectMarketingOrTelemarketing',
  'EducationalServices',
  'FinancialServicesCryptocurrency',
  'FinancialServicesDebitCollectionOrConsolidation',
  'FinancialServicesMoneyServicesBusinessOrCurrencyExchange',
  'FinancialServicesOther',
  'FinancialServicesPaydayLending',
  'GamingOrGambling',
  'HealthCareAndSocialAssistance',
  'HospitalityAccommodationOrFoodServices',
  'LegalAccountingConsultingOrComputerProgramming',
  'Manufacturing',
  'Mining',
  'Nutraceuticals',
  'PersonalCareServices',
  'PublicAdministration',
  'RealEstate',
  'ReligiousCivicAndSocialOrganizations',
  'RepairAndMaintenance',
  'RetailTrade',
  'TechnologyMediaOrTelecom',
  'TransportationOrWarehousing',
  'Utilities',
]);
const SoleProprietorAnnualRevenue = z.enum(['UpTo50k', 'Between50kAnd100k', 'Between100kAnd200k', 'Between200kAnd500k', 'Over500k']);
const SoleProprietorNumberOfEmployees = z.enum(['One', 'Between2And5', 'Between5And10', 'Over10']);
const BusinessAnnualRevenue = z.enum(['UpTo250k', 'Between250kAnd500k', 'Between500kAnd1m', 'Between1mAnd5m', 'Over5m']);
const BusinessNumberOfEmployees = z.enum(['UpTo10', 'Between10And50', 'Between50And100', 'Between100And500', 'Over500']);
const Title = z.enum([
  'CEO',
  'COO',
  'CFO',
  'President',
  'BenefitsAdministrationOfficer',
  'CIO',
  'VP',
  'AVP',
  'Treasurer',
  'Secretary',
  'Controller',
  'Manager',
  'Partner',
  'Member',
]);
const EntityType = z.enum([
  'Corporation',
  'LLC',
  'Partnership',
  'PubliclyTradedCorporation',
  'PrivatelyHeldCorporation',
  'NotForProfitOrganization',
]);
const PersonStatusEcho = z.enum(['Approved', 'Denied', 'PendingReview']).optional(); // echoed by SDK types; ignored

/** Fields every verified person has (Unit's BaseContactAttributes + identification). */
const personShape = {
  fullName: FullName,
  dateOfBirth: DateOnly,
  address: Address,
  phone: Phone,
  email: Email,
  ssn: Ssn.optional(),
  passport: z
    .string()
    .trim()
    .min(3, 'must be at least 3 characters')
    .max(20)
    .regex(/^[A-Za-z0-9]+$/, 'must be letters and digits only')
    .optional(),
  nationality: Country.optional(),
  evaluationParams: EvaluationParams.optional(),
  occupation: Occupation.optional(),
  sourceOfIncome: SourceOfIncome.optional(),
  annualIncome: AnnualIncome.optional(),
};

/** Exactly one of ssn or passport (with nationality). */
function identification(p: { ssn?: string; passport?: string; nationality?: string }, ctx: z.RefinementCtx) {
  if (p.ssn && p.passport) ctx.addIssue({ code: 'custom', path: ['passport'], message: 'give either ssn or passport, not both' });
  else if (!p.ssn && !p.passport)
    ctx.addIssue({ code: 'custom', path: ['ssn'], message: 'one of ssn or passport (with nationality) is required' });
  else if (p.passport && !p.nationality) ctx.addIssue({ code: 'custom', path: ['nationality'], message: 'is required with passport' });
}

const baseCreateShape = {
  ip: z.union([z.ipv4(), z.ipv6()], { error: 'must be an IPv4 or IPv6 address' }).optional(),
  tags: Tags.optional(),
  idempotencyKey: z.string().min(1).max(255).optional(),
  deviceFingerprints: z.array(DeviceFingerprint).max(10).optional(),
};

const AgentSchema = z
  .object({ ...personShape, status: PersonStatusEcho, jwtSubject: z.string().max(255).optional() })
  .strict()
  .superRefine(identification);

export const IndividualAttributes = z
  .object({
    ...personShape,
    ...baseCreateShape,
    idTheftScore: z.number().int().min(0).max(1000).optional(),
    jwtSubject: z.string().max(255).optional(),
    powerOfAttorneyAgent: AgentSchema.optional(),
    soleProprietorship: z.boolean().optional(),
    ein: z
      .string()
      .regex(/^\d{9}$/, 'must be exactly 9 digits')
      .optional(),
    dba: z.string().max(255).optional(),
    industry: Industry.optional(),
    annualRevenue: SoleProprietorAnnualRevenue.optional(),
    numberOfEmployees: SoleProprietorNumberOfEmployees.optional(),
    businessVertical: BusinessVertical.optional(),
    website: z.string().max(255).optional(),
  })
  .strict()
  .superRefine(identification);

export const OfficerAttributes = z
  .object({ ...personShape, title: Title.optional(), status: PersonStatusEcho })
  .strict()
  .superRefine(identification);
export const BeneficialOwnerAttributes = z
  .object({ ...personShape, percentage: z.number().min(0).max(100).optional(), status: PersonStatusEcho })
  .strict()
  .superRefine(identification);
export const BusinessContact = z
  .object({ fullName: FullName, email: Email, phone: Phone, jwtSubject: z.string().max(255).optional() })
  .strict();

export const BusinessAttributes = z
  .object({
    ...baseCreateShape,
    name: nonEmpty.max(255),
    dba: z.string().max(255).optional(),
    address: Address,
    phone: Phone,
    stateOfIncorporation: z.string().regex(/^[A-Z]{2}$/, 'must be a two-letter US state code'),
    ein: z.string().regex(/^\d{9}$/, 'must be exactly 9 digits'),
    industry: Industry.optional(),
    entityType: EntityType,
    website: z.string().max(255).optional(),
    contact: BusinessContact,
    officer: OfficerAttributes,
    beneficialOwners: z.array(BeneficialOwnerAttributes).max(10),
    annualRevenue: BusinessAnnualRevenue.optional(),
    numberOfEmployees: BusinessNumberOfEmployees.optional(),
    cashFlow: z.enum(['Unpredictable', 'Predictable']).optional(),
    yearOfIncorporation: z
      .string()
      .regex(/^\d{4}$/, 'must be a four-digit year')
      .optional(),
    countriesOfOperation: z.array(Country).max(250).optional(),
    stockSymbol: z.string().max(10).optional(),
    businessVertical: BusinessVertical.optional(),
  })
  .strict();

export type IndividualAttributes = z.infer<typeof IndividualAttributes>;
export type BusinessAttributes = z.infer<typeof BusinessAttributes>;
export type PersonAttributes = z.infer<typeof OfficerAttributes> | z.infer<typeof BeneficialOwnerAttributes> | IndividualAttributes;

export const CreateApplicationRequest = z
  .object({
    data: z.discriminatedUnion('type', [
      z.object({ type: z.literal('individualApplication'), attributes: IndividualAttributes }).strict(),
      z.object({ type: z.literal('businessApplication'), attributes: BusinessAttributes }).strict(),
    ]),
  })
  .strict();
export type CreateApplicationRequest = z.infer<typeof CreateApplicationRequest>;

export const CancelApplicationRequest = z
  .object({
    data: z.object({ type: z.literal('applicationCancel'), attributes: z.object({ reason: nonEmpty.max(255) }).strict() }).strict(),
  })
  .strict();

export const ReviewApplicationRequest = z
  .object({
    data: z
      .object({
        type: z.literal('applicationReview'),
        attributes: z
          // No `reviewer`: who reviews is the API key (review scope), never a name in the body.
          .object({ decision: z.enum(['Approved', 'Denied']), reason: nonEmpty.max(1000) })
          .strict(),
      })
      .strict(),
  })
  .strict();

export const ListApplicationsQuery = z
  .object({
    filter: z
      .object({
        status: z
          .union([z.enum(APPLICATION_STATUSES), z.array(z.enum(APPLICATION_STATUSES)), z.record(z.string(), z.enum(APPLICATION_STATUSES))])
          .optional(),
        email: z.string().max(255).optional(),
        query: z.string().max(255).optional(),
        tags: z.string().max(4000).optional(),
      })
      .strict()
      .optional(),
    page: z.object({ limit: z.string().optional(), offset: z.string().optional() }).strict().optional(),
    sort: z.enum(['createdAt', '-createdAt']).optional(),
    include: z.string().optional(),
  })
  .strict();

// --- responses (documentation; serialisers in src/applications/serialize.ts build them) ----

const Relationship = z.object({ data: z.object({ type: z.string(), id: z.string() }) });
const RelationshipArray = z.object({ data: z.array(z.object({ type: z.string(), id: z.string() })) });
export const DocumentResource = z.object({
  type: z.literal('document'),
  id: z.string(),
  attributes: z.object({
    documentType: z.enum(DOCUMENT_TYPES),
    status: z.enum(DOCUMENT_STATUSES),
    description: z.string(),
    name: z.string(),
    dateOfBirth: z.string().optional(),
    reason: z.string().optional(),
    reasonCode: z.string().optional(),
    personRole: z.enum(PERSON_ROLES),
    personPosition: z.number().int(),
  }),
  relationships: z.object({ application: Relationship }),
});
export const ApplicationResource = z.object({
  type: z.enum(APPLICATION_TYPES),
  id: z.string(),
  attributes: z
    .object({
      status: z.enum(APPLICATION_STATUSES),
      message: z.string(),
      createdAt: z.string(),
      updatedAt: z.string(),
      archived: z.boolean(),
      tags: z.record(z.string(), z.string().nullable()),
      decisionReason: z.string().optional(),
      decisionReasonCode: z.string().optional(),
      decisionUserId: z.string().optional(),
      redaction: z
        .object({ status: z.literal('redacted'), redactedAt: z.string() })
        .optional()
        .describe("Present once the applicant's personal data was erased (POST /applications/{applicationId}/redact)."),
    })
    .catchall(z.unknown()),
  relationships: z.object({ org: Relationship, documents: RelationshipArray }).catchall(z.unknown()),
});
export const ApplicationResponse = z.object({ data: ApplicationResource, included: z.array(DocumentResource) });
export const ApplicationListResponse = z.object({
  data: z.array(ApplicationResource),
  meta: z.object({ pagination: z.object({ total: z.number(), limit: z.number(), offset: z.number() }) }),
});

// --- parsing with precise error pointers ---------------------------------------------------

/** Like parseOr400, but an unknown field points at itself and a missing one reads "is required". */
export function parseBody<T>(schema: ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.flatMap((issue): unknown[] => {
    if (issue.code === 'unrecognized_keys') return issue.keys.map((k) => ({ ...issue, keys: [k], path: [...issue.path, k] }));
    if (issue.code === 'invalid_type' && /received undefined$/.test(issue.message)) return [{ ...issue, message: 'is required' }];
    return [issue];
  });
  throw fromZod(new ZodError(issues as never), '');
}

// --- OpenAPI ---------------------------------------------------------------------------------

const tags = ['Applications'];
const json = <T extends z.ZodType>(schema: T) => ({ content: { [JSON_API]: { schema } } });
const err = (description: string) => ({ description: `JSON:API errors: ${description}` });
export const ApplicationIdParams = z.object({ applicationId: z.string().regex(DATABASE_ID) });
registry.registerPath({
  method: 'post',
  path: '/applications',
  tags,
  summary: 'Create an individual or business application',
  description:
    'Starts the application workflow. The response shows the status after the initial evaluation and the required documents in `included`. ' +
    'With an idempotencyKey, the same key and body returns the original application; another body with the same key is a 409.',
  request: { body: { required: true, ...json(CreateApplicationRequest) } },
  responses: {
    201: { description: 'Created', ...json(ApplicationResponse) },
    200: { description: 'Replayed (same idempotencyKey and body)', ...json(ApplicationResponse) },
    400: err('invalid field (source.pointer names it)'),
    409: err('idempotencyKey reused with another body'),
    415: err('not JSON'),
  },
});
registry.registerPath({
  method: 'get',
  path: '/applications',
  tags,
  summary: 'List applications',
  request: {
    query: z.object({
      'filter[status][]': z.enum(APPLICATION_STATUSES).optional(),
      'filter[email]': z.string().optional(),
      'filter[query]': z.string().optional(),
      'filter[tags]': z.string().optional().describe('JSON object, e.g. {"key":"value"}'),
      'page[limit]': z.string().optional(),
      'page[offset]': z.string().optional(),
      sort: z.enum(['createdAt', '-createdAt']).optional(),
    }),
  },
  responses: { 200: { description: 'Applications', ...json(ApplicationListResponse) }, 400: err('invalid filter') },
});
registry.registerPath({
  method: 'get',
  path: '/applications/{applicationId}',
  tags,
  summary: 'Get an application with its documents',
  request: { params: ApplicationIdParams },
  responses: { 200: { description: 'The application', ...json(ApplicationResponse) }, 404: err('no such application in this org') },
});
registry.registerPath({
  method: 'post',
  path: '/applications/{applicationId}/cancel',
  tags,
  summary: 'Cancel an application',
  request: { params: ApplicationIdParams, body: { required: true, ...json(CancelApplicationRequest) } },
  responses: {
    200: { description: 'The canceled application', ...json(ApplicationResponse) },
    404: err('no such application'),
    409: err('already Approved, Denied or Canceled'),
  },
});
registry.registerPath({
  method: 'post',
  path: '/applications/{applicationId}/review',
  tags,
  summary: 'Decide an application in PendingReview',
  description: 'Delivered to the workflow as the Temporal update `review` (also usable from the Temporal UI/CLI).',
  request: { params: ApplicationIdParams, body: { required: true, ...json(ReviewApplicationRequest) } },
  responses: {
    200: { description: 'The decided application', ...json(ApplicationResponse) },
    404: err('no such application'),
    409: err('not in PendingReview'),
  },
});

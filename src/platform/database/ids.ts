/** A BIGSERIAL id as the API shows it: digits that fit in a BIGINT. Anything else cannot exist (404, not a database error). */
export const isDatabaseId = (id: string): boolean => /^\d{1,18}$/.test(id);

/** A BIGSERIAL id as the API shows it: digits that fit in a BIGINT. Anything else cannot exist (404, not a database error). */
export const DATABASE_ID = /^\d{1,18}$/;
export const isDatabaseId = (id: string): boolean => DATABASE_ID.test(id);

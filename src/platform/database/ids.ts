/**
 * A BIGSERIAL id as the API shows it: digits that fit in a BIGINT, without leading zeros (`007`
 * would find row 7 in SQL but name another workflow). Anything else cannot exist (404, not a
 * database error).
 */
export const DATABASE_ID = /^(0|[1-9]\d{0,17})$/;
export const isDatabaseId = (id: string): boolean => DATABASE_ID.test(id);

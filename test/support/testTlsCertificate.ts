// A self-signed certificate for hooks.example.test (valid 2000–2125) and its key: the tests' TLS
// receivers present it and the tests' client trusts it (as its only CA). Test-only. Made with
// `openssl ca -selfsign -startdate 20000101000000Z -enddate 21250101000000Z` on a P-256 key, with
// subjectAltName=DNS:hooks.example.test, basicConstraints=CA:TRUE, extendedKeyUsage=serverAuth.
export const TEST_TLS_HOSTNAME = 'hooks.example.test';

export const TEST_TLS_CERT = `-----BEGIN CERTIFICATE-----
MIIBnjCCAUSgAwIBAgIBATAKBggqhkjOPQQDAjAdMRswGQYDVQQDDBJob29rcy5l
eGFtcGxlLnRlc3QwIBcNMDAwMTAxMDAwMDAwWhgPMjEyNTAxMDEwMDAwMDBaMB0x
GzAZBgNVBAMMEmhvb2tzLmV4YW1wbGUudGVzdDBZMBMGByqGSM49AgEGCCqGSM49
AwEHA0IABCKlaUdhFmafbqR0svAbeqOAQVf+2N7l1JTaoUm9GgncHrzPMySr3zCu
XwshjgY0evEgClTLGFAZXhn/6KofOzejczBxMB0GA1UdEQQWMBSCEmhvb2tzLmV4
YW1wbGUudGVzdDAPBgNVHRMBAf8EBTADAQH/MAsGA1UdDwQEAwIChDATBgNVHSUE
DDAKBggrBgEFBQcDATAdBgNVHQ4EFgQUXdPu7ABsrNWaZwUuYCrbFr43eScwCgYI
KoZIzj0EAwIDSAAwRQIgZwdeWV3Ua5nlHHUO1TNUVP1HbNpQ3HzorRL371v7bS8C
IQCdKROP1odlsi0wVUbsgQhpVCSPIVMvSjdaieCi/HVCTg==
-----END CERTIFICATE-----
`;

export const TEST_TLS_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg9Oo4QawvohHvUwvi
QM/4x5RhylsL0MHgGuuobISMsNWhRANCAAQipWlHYRZmn26kdLLwG3qjgEFX/tje
5dSU2qFJvRoJ3B68zzMkq98wrl8LIY4GNHrxIApUyxhQGV4Z/+iqHzs3
-----END PRIVATE KEY-----
`;

// The failures a verification job's checks activity reports and its workflow tells apart:
// the input is gone or never existed, so retrying cannot help. Pure: safe in workflow code.
export const JOB_FAILURE = {
  jobNotFound: 'VerificationJobNotFound',
  imagesDeleted: 'VerificationImagesDeleted',
} as const;

/** Error types the workflow does not retry. */
export const VERIFICATION_NON_RETRYABLE = Object.values(JOB_FAILURE);

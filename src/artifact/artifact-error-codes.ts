/** Stable codes of the ArtifactErrors raised while verifying a function zip. */
export const ArtifactErrorCode = {
  TooLarge: 'ARTIFACT_TOO_LARGE',
  Corrupt: 'ARTIFACT_CORRUPT',
  Empty: 'ARTIFACT_EMPTY',
  TooManyEntries: 'ARTIFACT_TOO_MANY_ENTRIES',
  UnzippedTooLarge: 'ARTIFACT_UNZIPPED_TOO_LARGE',
  UnsafePath: 'ARTIFACT_UNSAFE_PATH',
  Encrypted: 'ARTIFACT_ENCRYPTED',
  ChecksumMismatch: 'ARTIFACT_CHECKSUM_MISMATCH',
  ChecksumInvalid: 'ARTIFACT_CHECKSUM_INVALID',
} as const;
export type ArtifactErrorCode = (typeof ArtifactErrorCode)[keyof typeof ArtifactErrorCode];

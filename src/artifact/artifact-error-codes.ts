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
  /** A composite (multipart) checksum: not a SHA-256 of the object, so it cannot be verified. */
  ChecksumUnverifiable: 'ARTIFACT_CHECKSUM_UNVERIFIABLE',
  /** The end-of-central-directory record (or its zip64 form) disagrees with the central directory. */
  DirectoryMismatch: 'ARTIFACT_DIRECTORY_MISMATCH',
  /** A local file header disagrees with its central directory record. */
  HeaderMismatch: 'ARTIFACT_HEADER_MISMATCH',
  /** An entry's bytes overlap another entry or the central directory. */
  OverlappingEntries: 'ARTIFACT_OVERLAPPING_ENTRIES',
  /** Bytes that no entry accounts for (before, between or after the entries). */
  HiddenData: 'ARTIFACT_HIDDEN_DATA',
  /** An entry inflates to another size, or another CRC-32, than it declares. */
  ContentMismatch: 'ARTIFACT_CONTENT_MISMATCH',
  UnsupportedCompression: 'ARTIFACT_UNSUPPORTED_COMPRESSION',
  DuplicateEntry: 'ARTIFACT_DUPLICATE_ENTRY',
  /** An entry carries two different names (its header and an Info-ZIP Unicode Path field). */
  AmbiguousName: 'ARTIFACT_AMBIGUOUS_NAME',
  Symlink: 'ARTIFACT_SYMLINK',
  /** A device, FIFO or socket entry. */
  SpecialFile: 'ARTIFACT_SPECIAL_FILE',
} as const;
export type ArtifactErrorCode = (typeof ArtifactErrorCode)[keyof typeof ArtifactErrorCode];

/** Document lifecycle (ARCHITECTURE.md, "The consistency protocol"). Stored as text with a CHECK. */
export const DocumentStatus = {
  Pending: 'pending',
  Processing: 'processing',
  Completed: 'completed',
  Failed: 'failed',
  Deleting: 'deleting',
  Deleted: 'deleted',
} as const;

export type DocumentStatus = (typeof DocumentStatus)[keyof typeof DocumentStatus];

export const DOCUMENT_STATUSES: readonly DocumentStatus[] = Object.values(DocumentStatus);

import type { Document } from '@quarry/db';
import type { DocumentEvent } from './document-events.service';

/** The public shape of a document (snake_case, as every response body). */
export interface DocumentView {
  id: string;
  collection_id: string;
  filename: string;
  mime_type: string;
  size_bytes: number;
  sha256: string;
  status: Document['status'];
  generation: number;
  stage: string | null;
  progress: number;
  chunk_count: number;
  error: string | null;
  attempts: number;
  embedding_model: string | null;
  metadata: Record<string, unknown>;
  processing_started_at: string | null;
  processing_completed_at: string | null;
  deleted_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface DocumentStatusView {
  status: Document['status'];
  stage: string | null;
  progress: number;
  chunks_done: number;
  chunks_total: number;
  attempts: number;
  error: string | null;
  started_at: string | null;
  completed_at: string | null;
  generation: number;
}

const iso = (d: Date | null | undefined): string | null => (d ? new Date(d).toISOString() : null);

export function toDocumentView(d: Document): DocumentView {
  return {
    id: d.id,
    collection_id: d.collectionId,
    filename: d.filename,
    mime_type: d.mimeType,
    size_bytes: d.sizeBytes,
    sha256: d.sha256,
    status: d.status,
    generation: d.generation,
    stage: d.stage,
    progress: d.progress,
    chunk_count: d.chunkCount,
    error: d.error,
    attempts: d.attempts,
    embedding_model: d.embeddingModel,
    metadata: d.metadata,
    processing_started_at: iso(d.processingStartedAt),
    processing_completed_at: iso(d.processingCompletedAt),
    deleted_at: iso(d.deletedAt),
    created_at: iso(d.createdAt) ?? '',
    updated_at: iso(d.updatedAt) ?? '',
  };
}

export function toStatusView(d: Document): DocumentStatusView {
  return {
    status: d.status,
    stage: d.stage,
    progress: d.progress,
    chunks_done: d.chunksDone,
    chunks_total: d.chunksTotal,
    attempts: d.attempts,
    error: d.error,
    started_at: iso(d.processingStartedAt),
    completed_at: iso(d.processingCompletedAt),
    generation: d.generation,
  };
}

/** What a progress event says of a document. */
export type EventSource = Pick<
  Document,
  'id' | 'generation' | 'status' | 'stage' | 'progress' | 'chunksDone' | 'chunksTotal' | 'error'
>;

export function toEvent(d: EventSource): DocumentEvent {
  return {
    document_id: d.id,
    generation: d.generation,
    status: d.status,
    stage: d.stage,
    progress: d.progress,
    chunks_done: d.chunksDone,
    chunks_total: d.chunksTotal,
    error: d.error,
    at: new Date().toISOString(),
  };
}

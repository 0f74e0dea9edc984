import { ApiKey } from './api-key.entity';
import { Chunk } from './chunk.entity';
import { Collection } from './collection.entity';
import { DocumentBlob } from './document-blob.entity';
import { Document } from './document.entity';

export * from './api-key.entity';
export * from './chunk.entity';
export * from './collection.entity';
export * from './document-blob.entity';
export * from './document-status';
export * from './document.entity';

export const ENTITIES = [Collection, Document, DocumentBlob, Chunk, ApiKey];

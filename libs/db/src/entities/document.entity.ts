import {
  Column,
  CreateDateColumn,
  Entity,
  JoinColumn,
  ManyToOne,
  PrimaryGeneratedColumn,
  UpdateDateColumn,
} from 'typeorm';
import { Collection } from './collection.entity';
import { bigintToNumber } from './column-transformers';
import { DocumentStatus } from './document-status';

@Entity('documents')
export class Document {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'uuid' })
  collectionId!: string;

  @ManyToOne(() => Collection, { onDelete: 'RESTRICT' })
  @JoinColumn({ name: 'collection_id' })
  collection?: Collection;

  @Column({ type: 'text' })
  ownerId!: string;

  @Column({ type: 'text' })
  filename!: string;

  @Column({ type: 'text' })
  mimeType!: string;

  @Column({ type: 'bigint', transformer: bigintToNumber })
  sizeBytes!: number;

  @Column({ type: 'text' })
  sha256!: string;

  @Column({ type: 'text', default: DocumentStatus.Pending })
  status!: DocumentStatus;

  /** bumped by reprocess and delete; chunks and points of older generations are stale */
  @Column({ type: 'int', default: 0 })
  generation!: number;

  @Column({ type: 'smallint', default: 0 })
  progress!: number;

  @Column({ type: 'text', nullable: true })
  stage!: string | null;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ type: 'int', default: 0 })
  attempts!: number;

  @Column({ type: 'int', default: 0 })
  chunkCount!: number;

  @Column({ type: 'int', default: 0 })
  chunksTotal!: number;

  @Column({ type: 'int', default: 0 })
  chunksDone!: number;

  @Column({ type: 'text', nullable: true })
  embeddingModel!: string | null;

  @Column({ type: 'jsonb', default: () => "'{}'::jsonb" })
  metadata!: Record<string, unknown>;

  @Column({ type: 'timestamptz', nullable: true })
  heartbeatAt!: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  processingStartedAt!: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  processingCompletedAt!: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  deletedAt!: Date | null;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ type: 'timestamptz' })
  updatedAt!: Date;
}

import { Column, CreateDateColumn, Entity, JoinColumn, OneToOne, PrimaryColumn } from 'typeorm';
import { Document } from './document.entity';

/** The uploaded original; the worker reads it from here, so api and worker share no disk. */
@Entity('document_blobs')
export class DocumentBlob {
  @PrimaryColumn({ type: 'uuid' })
  documentId!: string;

  @OneToOne(() => Document, { onDelete: 'CASCADE' })
  @JoinColumn({ name: 'document_id' })
  document?: Document;

  @Column({ type: 'bytea' })
  content!: Buffer;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;
}

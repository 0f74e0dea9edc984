import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

export const ApiKeyRole = {
  User: 'user',
  Admin: 'admin',
} as const;

export type ApiKeyRole = (typeof ApiKeyRole)[keyof typeof ApiKeyRole];

@Entity('api_keys')
export class ApiKey {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ type: 'text' })
  ownerId!: string;

  @Column({ type: 'text', default: ApiKeyRole.User })
  role!: ApiKeyRole;

  /** SHA-256 of the key; the key itself is shown once and never stored */
  @Column({ type: 'text' })
  keyHash!: string;

  @Column({ type: 'text' })
  name!: string;

  @CreateDateColumn({ type: 'timestamptz' })
  createdAt!: Date;

  @Column({ type: 'timestamptz', nullable: true })
  lastUsedAt!: Date | null;

  @Column({ type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;
}

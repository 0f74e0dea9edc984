import {
  Body,
  ConflictException,
  Controller,
  Get,
  HttpCode,
  Module,
  ParseIntPipe,
  Post,
  Query,
} from '@nestjs/common';
import { DbService } from '@quarry/db';
import { IsIn, IsString, MinLength } from 'class-validator';
import { Public } from '../../src/auth/public.decorator';

export class ProbeCollectionDto {
  @IsString()
  @MinLength(1)
  name!: string;

  /** how the transaction ends after inserting the collection */
  @IsIn(['commit', 'conflict', 'constraint'])
  outcome!: 'commit' | 'conflict' | 'constraint';
}

/**
 * Endpoints that exercise the database the way real handlers do, so the api's connection
 * discipline can be proven over HTTP: a read that holds its connection for a while (and may
 * be retried), a transaction that does the same (never retried), and a transaction that
 * writes and then fails.
 */
@Public()
@Controller('probe/db')
export class DbProbeController {
  constructor(private readonly db: DbService) {}

  @Get('hold')
  async hold(@Query('ms', ParseIntPipe) ms: number): Promise<{ ok: true }> {
    await this.db.read((m) => m.query('SELECT pg_sleep($1)', [ms / 1000]));
    return { ok: true };
  }

  @Post('tx-hold')
  @HttpCode(200)
  async txHold(@Query('ms', ParseIntPipe) ms: number): Promise<{ ok: true }> {
    await this.db.transaction((m) => m.query('SELECT pg_sleep($1)', [ms / 1000]));
    return { ok: true };
  }

  @Post('collections')
  async createCollection(@Body() dto: ProbeCollectionDto): Promise<{ id: string }> {
    return this.db.transaction(async (m) => {
      const [row] = (await m.query(
        `INSERT INTO collections (owner_id, name) VALUES ('probe', $1) RETURNING id`,
        [dto.name],
      )) as { id: string }[];
      if (dto.outcome === 'conflict') {
        throw new ConflictException(`collection ${dto.name} conflicts with an existing one`);
      }
      if (dto.outcome === 'constraint') {
        // progress outside 0-100: the CHECK constraint rejects the row
        await m.query(
          `INSERT INTO documents (collection_id, owner_id, filename, mime_type, size_bytes, sha256, progress)
           VALUES ($1, 'probe', 'a.txt', 'text/plain', 1, repeat('a', 64), 150)`,
          [row.id],
        );
      }
      return { id: row.id };
    });
  }
}

@Module({ controllers: [DbProbeController] })
export class DbProbeModule {}

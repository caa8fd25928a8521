import { Module } from '@nestjs/common';
import { ModelsModule } from '../models/models.module';
import { GenerationController } from './generation.controller';
import { GenerationService } from './generation.service';

@Module({
  imports: [ModelsModule],
  controllers: [GenerationController],
  providers: [GenerationService],
})
export class GenerationModule {}

import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { APP_LOGGER, Logger } from '@troupe/logging';
import { RoleContextConfig } from '../role-context.config';
import { StoredRole } from './role';
import { readRoleFiles } from './role-seeder';
import { RolesRepository } from './roles.repository';

@Injectable()
export class RolesService implements OnApplicationBootstrap {
  constructor(
    private readonly repository: RolesRepository,
    private readonly config: RoleContextConfig,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  /** Seeds roles from files before gRPC starts answering; idempotent (unchanged files keep their version). */
  async onApplicationBootstrap(): Promise<void> {
    for (const result of await readRoleFiles(this.config.ROLES_DIR)) {
      if (result.error || !result.definition) {
        this.logger.error({ file: result.file, error: result.error }, 'role file rejected');
        continue;
      }
      const version = await this.repository.put(result.definition);
      this.logger.info({ role: result.definition.id, version, file: result.file }, 'role seeded');
    }
  }

  get(id: string): Promise<StoredRole | undefined> {
    return this.repository.get(id);
  }

  list(): Promise<StoredRole[]> {
    return this.repository.list();
  }
}

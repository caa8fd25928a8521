import { Inject, Injectable, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import { APP_LOGGER, Logger } from '@troupe/logging';
import { CacheRegistry } from '../caches/cache-registry';
import { InvalidationBus } from '../caches/invalidation-bus';
import { RoleContextConfig } from '../role-context.config';
import { RoleDefinitionDto } from './dto/role-definition.dto';
import { StoredRole } from './role';
import { RoleDefinitionError, parseRoleDefinition } from './role-definition.parser';
import { readRoleFiles } from './role-seeder';
import { RolesRepository } from './roles.repository';

const MAX_VERSIONS_KEPT = 1000;

export const roleTag = (id: string) => `role:${id}`;

@Injectable()
export class RolesService implements OnModuleInit, OnApplicationBootstrap {
  /** Latest version per role id; dropped on every instance when the role changes. */
  private readonly latest = new Map<string, StoredRole>();
  /** Versions never change once stored, so they need no invalidation; the map only needs a bound. */
  private readonly versionsSeen = new Map<string, StoredRole>();

  constructor(
    private readonly repository: RolesRepository,
    private readonly caches: CacheRegistry,
    private readonly bus: InvalidationBus,
    private readonly config: RoleContextConfig,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    this.bus.onInvalidate((tags) => {
      for (const tag of tags) if (tag.startsWith('role:')) this.latest.delete(tag.slice('role:'.length));
    });
  }

  /** Seeds roles from files before gRPC starts answering; idempotent (unchanged files keep their version). */
  async onApplicationBootstrap(): Promise<void> {
    for (const result of await readRoleFiles(this.config.ROLES_DIR)) {
      if (result.error || !result.definition) {
        this.logger.error({ file: result.file, error: result.error }, 'role file rejected');
        continue;
      }
      try {
        const role = await this.save(result.definition);
        this.logger.info({ role: role.role.id, version: role.role.version, file: result.file }, 'role seeded');
      } catch (e) {
        this.logger.error({ file: result.file, error: (e as Error).message }, 'role file rejected');
      }
    }
  }

  /** The latest version, or the given one (versions outlive a deletion, for pinned sessions). */
  async get(id: string, version = 0): Promise<StoredRole | undefined> {
    if (!this.caches.enabled) return version > 0 ? this.repository.getVersion(id, version) : this.repository.get(id);
    if (version > 0) return this.cachedVersion(id, version);
    const cached = this.latest.get(id);
    if (cached) return cached;
    const epoch = this.bus.epoch;
    const role = await this.repository.get(id);
    // A change announced while we read may be newer than what we read: then do not keep it.
    if (role && !this.bus.invalidatedSince(epoch, [roleTag(id)])) this.latest.set(id, role);
    return role;
  }

  private async cachedVersion(id: string, version: number): Promise<StoredRole | undefined> {
    const key = `${id}@${version}`;
    const hit = this.versionsSeen.get(key);
    if (hit) return hit;
    const role = await this.repository.getVersion(id, version);
    if (role) {
      if (this.versionsSeen.size >= MAX_VERSIONS_KEPT) this.versionsSeen.delete(this.versionsSeen.keys().next().value!);
      this.versionsSeen.set(key, role);
    }
    return role;
  }

  list(): Promise<StoredRole[]> {
    return this.repository.list();
  }

  versions(id: string): Promise<StoredRole[]> {
    return this.repository.versions(id);
  }

  /** Validates and stores a definition sent as JSON text; throws RoleDefinitionError naming the field. */
  async put(json: string): Promise<{ role: StoredRole; changed: boolean }> {
    let input: unknown;
    try {
      input = JSON.parse(json);
    } catch (e) {
      throw new RoleDefinitionError(`definitionJson: not JSON: ${(e as Error).message}`);
    }
    return this.save(parseRoleDefinition(input));
  }

  async delete(id: string): Promise<boolean> {
    const deleted = await this.repository.delete(id);
    if (deleted) await this.bus.publish([roleTag(id)]);
    return deleted;
  }

  private async save(definition: RoleDefinitionDto): Promise<{ role: StoredRole; changed: boolean }> {
    if (!this.caches.has(definition.cacheClass)) {
      throw new RoleDefinitionError(`cacheClass: "${definition.cacheClass}" is not a configured cache class (${this.caches.names().join(', ')})`);
    }
    const { version, changed } = await this.repository.put(definition);
    // Acknowledged only after every instance dropped what it cached about the old version.
    if (changed) await this.bus.publish([roleTag(definition.id)]);
    const role = await this.repository.getVersion(definition.id, version);
    if (!role) throw new Error(`role ${definition.id} v${version} vanished after it was stored`);
    return { role, changed };
  }
}

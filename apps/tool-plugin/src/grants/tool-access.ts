import { RoleDirectory } from '../peers/peer-ports';
import { CallContext, Tool, ToolCallError } from '../tools/tool';
import { FoundToolsStore } from './found-tools.store';

export const FIND_TOOLS = 'find_tools';

/** The role may not use the tool (answered as PERMISSION_DENIED). */
export class ToolPermissionError extends Error {}
/** No role with that id (answered as NOT_FOUND). */
export class RoleNotFoundError extends Error {}

export interface ToolCatalog {
  list(): Tool[];
  get(name: string): Tool | undefined;
}

export interface ToolAccessOptions {
  /** Past this many granted tools the role sees find_tools instead. */
  findThreshold: number;
  grantsCacheMs: number;
  /** Granted tools listed even past the threshold (the coordination tools the director relies on). */
  pinned?: string[];
}

/**
 * A grant in a role's `tools` list: a tool name, "plugin:<name>" or "mcp:<server>" for every
 * tool of that source, a prefix ending in "*", or "*" for all.
 */
export function grantMatches(grant: string, tool: Tool): boolean {
  if (grant === '*' || grant === tool.name || (tool.source !== undefined && grant === tool.source)) return true;
  return grant.endsWith('*') && tool.name.startsWith(grant.slice(0, -1));
}

function words(text: string): string[] {
  return text.toLowerCase().split(/[^a-z0-9]+/).filter((w) => w.length > 1);
}

/** How well a tool matches a find_tools query: words of the name count double. */
export function matchScore(query: string, tool: Tool): number {
  const name = new Set(words(tool.name.replace(/_/g, ' ')));
  const description = new Set(words(tool.description));
  let score = 0;
  for (const w of words(query)) {
    if (name.has(w)) score += 2;
    else if ([...name].some((n) => n.startsWith(w) || w.startsWith(n))) score += 1.5;
    if (description.has(w)) score += 1;
    else if ([...description].some((d) => d.length > 3 && (d.startsWith(w) || w.startsWith(d)))) score += 0.5;
  }
  return score;
}

/**
 * Which tools a role may see and call: its grants from role-context, and, past the
 * threshold, find_tools plus what find_tools found in the current turn. Enforced on every
 * call, so a caller that skips ListTools gains nothing.
 */
export class ToolAccess {
  private readonly cache = new Map<string, { at: number; grants: string[] | null }>();

  constructor(
    private readonly catalog: ToolCatalog,
    private readonly roles: RoleDirectory,
    private readonly found: FoundToolsStore,
    private readonly options: ToolAccessOptions,
  ) {}

  /** Tools the role may see now. An empty role id is an operator: every tool. */
  async visible(roleId: string, sessionId: string, turnId: string): Promise<Tool[]> {
    if (!roleId) return this.catalog.list();
    const granted = await this.granted(roleId);
    const pinned = new Set(this.options.pinned ?? []);
    if (granted.filter((t) => !pinned.has(t.name)).length <= this.options.findThreshold) return granted;
    const found = sessionId && turnId ? new Set(await this.found.list(sessionId, turnId)) : new Set<string>();
    const finder = this.catalog.get(FIND_TOOLS);
    return [...(finder ? [finder] : []), ...granted.filter((t) => pinned.has(t.name) || found.has(t.name))];
  }

  /** Throws ToolPermissionError unless the role may call the tool now. */
  async check(context: CallContext, tool: string): Promise<void> {
    if (!context.roleId) return;
    const visible = await this.visible(context.roleId, context.sessionId, context.turnId);
    if (visible.some((t) => t.name === tool)) return;
    const granted = (await this.granted(context.roleId)).some((t) => t.name === tool);
    throw new ToolPermissionError(
      granted
        ? `tool "${tool}" must be found with ${FIND_TOOLS} in this turn before role "${context.roleId}" can call it`
        : `tool "${tool}" is not granted to role "${context.roleId}"`,
    );
  }

  /** find_tools: the granted tools best matching the query; they stay callable for the turn. */
  async find(context: CallContext, query: string, limit: number): Promise<Tool[]> {
    if (!context.sessionId || !context.turnId) {
      throw new ToolCallError('INVALID_ARGUMENTS', `${FIND_TOOLS} needs the call's session_id and turn_id`);
    }
    const candidates = context.roleId ? await this.granted(context.roleId) : this.catalog.list().filter((t) => t.name !== FIND_TOOLS);
    const matches = candidates
      .map((tool) => ({ tool, score: matchScore(query, tool) }))
      .filter((m) => m.score > 0)
      .sort((a, b) => b.score - a.score || a.tool.name.localeCompare(b.tool.name))
      .slice(0, limit)
      .map((m) => m.tool);
    await this.found.add(context.sessionId, context.turnId, matches.map((t) => t.name));
    return matches;
  }

  private async granted(roleId: string): Promise<Tool[]> {
    const grants = await this.grantsOf(roleId);
    if (grants === null) throw new RoleNotFoundError(`role "${roleId}" not found`);
    return this.catalog.list().filter((t) => t.name !== FIND_TOOLS && grants.some((g) => grantMatches(g, t)));
  }

  private async grantsOf(roleId: string): Promise<string[] | null> {
    const hit = this.cache.get(roleId);
    if (hit && Date.now() - hit.at < this.options.grantsCacheMs) return hit.grants;
    const grants = await this.roles.grantsOf(roleId);
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(roleId, { at: Date.now(), grants });
    return grants;
  }
}

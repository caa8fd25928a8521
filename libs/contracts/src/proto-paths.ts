import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** Finds the repository's proto/ folder whether running from sources or from dist/. */
function findProtoRoot(start: string): string {
  let dir = start;
  for (;;) {
    const candidate = join(dir, 'proto', 'troupe');
    if (existsSync(candidate)) return join(dir, 'proto');
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`proto/ not found above ${start}`);
    dir = parent;
  }
}

export const PROTO_ROOT = findProtoRoot(__dirname);

/** One gRPC service: its package, service name and .proto file (relative to PROTO_ROOT). */
export interface GrpcServiceContract {
  readonly packageName: string;
  readonly serviceName: string;
  readonly protoFile: string;
}

export const INFERENCE_CONTRACT: GrpcServiceContract = {
  packageName: 'troupe.inference.v1',
  serviceName: 'InferenceService',
  protoFile: 'troupe/inference/v1/inference.proto',
};

export const ROLE_CONTEXT_CONTRACT: GrpcServiceContract = {
  packageName: 'troupe.role_context.v1',
  serviceName: 'RoleContextService',
  protoFile: 'troupe/role_context/v1/role_context.proto',
};

export const TOOL_PLUGIN_CONTRACT: GrpcServiceContract = {
  packageName: 'troupe.tool_plugin.v1',
  serviceName: 'ToolPluginService',
  protoFile: 'troupe/tool_plugin/v1/tool_plugin.proto',
};

/**
 * proto-loader options shared by servers and clients: camelCase fields (as ts-proto emits),
 * defaults filled in so proto3 scalars are never undefined, oneof fields as plain properties.
 */
export const PROTO_LOADER_OPTIONS: {
  keepCase: boolean;
  longs: typeof String;
  enums: typeof String;
  defaults: boolean;
  arrays: boolean;
  oneofs: boolean;
  includeDirs: string[];
} = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: true,
  arrays: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

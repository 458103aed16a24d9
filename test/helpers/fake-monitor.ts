import { createRequire } from "node:module";
import * as grpc from "@grpc/grpc-js";

// The SDK's generated gRPC service definitions are CommonJS without ESM entry points.
const require = createRequire(import.meta.url);
const services = require("@pulumi/pulumi/proto/resource_grpc_pb.js");
const resproto = require("@pulumi/pulumi/proto/resource_pb.js");

export interface FakeMonitor {
  address: string;
  /** "type::name" of each RegisterResource request received. */
  registered: string[];
  close: () => void;
}

/**
 * A resource monitor on loopback that supports no optional features and refuses every registration, after
 * noting it: enough for Pulumi's own Node runner to load the program and show how far it got.
 */
export async function startFakeMonitor(): Promise<FakeMonitor> {
  const server = new grpc.Server();
  const registered: string[] = [];
  const handlers = new Proxy(
    {},
    {
      // biome-ignore lint/suspicious/noExplicitAny: gRPC handler signatures differ per method; every method is answered the same way here.
      get: (_target, method) => (call: { request: any }, callback: (error: unknown, response?: unknown) => void) => {
        if (method === "supportsFeature") {
          const response = new resproto.SupportsFeatureResponse();
          response.setHassupport(false);
          return callback(null, response);
        }
        if (method === "registerResource") registered.push(`${call.request.getType()}::${call.request.getName()}`);
        callback({
          code: grpc.status.UNIMPLEMENTED,
          message: `${String(method)} is not implemented by the test monitor`,
        });
      },
    },
  );
  server.addService(services.ResourceMonitorService, handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return { address: `127.0.0.1:${port}`, registered, close: () => server.forceShutdown() };
}

import { createRequire } from "node:module";
import * as grpc from "@grpc/grpc-js";

// The SDK's generated gRPC service definitions are CommonJS without ESM entry points.
const require = createRequire(import.meta.url);
const services = require("@pulumi/pulumi/proto/resource_grpc_pb.js");
const resproto = require("@pulumi/pulumi/proto/resource_pb.js");
const { Struct } = require("google-protobuf/google/protobuf/struct_pb.js");
const { Empty } = require("google-protobuf/google/protobuf/empty_pb.js");

export interface FakeMonitor {
  address: string;
  /** "type::name" of each RegisterResource request received. */
  registered: string[];
  close: () => void;
}

/**
 * A resource monitor on loopback that supports no optional features and notes every registration: enough for
 * Pulumi's own Node runner to load the program and show how far it got. It accepts the registrations `accept`
 * names and refuses the others. A refusal is costly to the runner: it prints the error with util.inspect and
 * colors, which on Node 20 loops on the SDK's source-mapped frames (".../node_modules/@pulumi/resource.ts",
 * nodejs/node#64011) until the string is too long: 27 s for the quick stack's first refusal.
 */
export async function startFakeMonitor(accept: (type: string) => boolean = () => false): Promise<FakeMonitor> {
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
        // The outputs of a resource it accepted (the stack's, once the program is done or has failed).
        if (method === "registerResourceOutputs") return callback(null, new Empty());
        if (method === "registerResource") {
          const [type, name] = [call.request.getType(), call.request.getName()];
          registered.push(`${type}::${name}`);
          if (accept(type)) {
            const response = new resproto.RegisterResourceResponse();
            response.setUrn(`urn:pulumi:test::layerbench::${type}::${name}`);
            response.setObject(new Struct());
            return callback(null, response);
          }
        }
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

import { type DescFile, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import type * as grpc from "@grpc/grpc-js";
import { ReflectionService } from "@grpc/reflection";
import type { GrpcServer } from "../grpc-server.js";

type Registration = { definition: grpc.ServiceDefinition; implementation: grpc.UntypedServiceImplementation };

/** The services a ReflectionService registers, captured instead of added to a server. */
function registrationsOf(service: ReflectionService): Registration[] {
  const out: Registration[] = [];
  service.addToServer({ addService: (definition, implementation) => out.push({ definition, implementation }) } as Pick<grpc.Server, "addService">);
  return out;
}

/**
 * gRPC server reflection (v1 and v1alpha) for the given files and everything they import, so
 * `grpcurl` and similar tools work without proto files. Descriptors come from the generated
 * protobuf-es code, so they always match what the server speaks. Indexing every descriptor
 * (Envoy's tree is large) takes a third of a second, so it happens on the first reflection
 * call, not at startup: the services are registered from an empty instance and each handler
 * hands over to the full one.
 */
export function addReflection(server: GrpcServer, files: readonly DescFile[]): void {
  let full: Registration[] | undefined;
  const fullRegistrations = () =>
    (full ??= registrationsOf(new ReflectionService({ verdict: { fileDescriptorProtos: descriptorsOf(files) } } as never)));
  registrationsOf(new ReflectionService({} as never)).forEach(({ definition }, i) => {
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const [name, method] of Object.entries(definition)) {
      implementation[name] = ((...args: unknown[]) => {
        const impl = fullRegistrations()[i]!.implementation;
        return ((impl[name] ?? impl[method.originalName!]) as (...a: unknown[]) => void)(...args);
      }) as grpc.UntypedHandleCall;
    }
    server.add(definition, implementation);
  });
}

/** Encoded descriptors of the files and their imports, each once. */
function descriptorsOf(files: readonly DescFile[]): Buffer[] {
  const all = new Map<string, DescFile>();
  const visit = (f: DescFile) => {
    if (all.has(f.name)) return;
    all.set(f.name, f);
    f.dependencies.forEach(visit);
  };
  files.forEach(visit);
  return [...all.values()].map((f) => Buffer.from(toBinary(FileDescriptorProtoSchema, f.proto)));
}

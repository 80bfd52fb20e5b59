import { type DescFile, toBinary } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { ReflectionService } from "@grpc/reflection";
import type { GrpcServer } from "../grpc-server.js";

/**
 * gRPC server reflection (v1 and v1alpha) for the given files and everything they import, so
 * `grpcurl` and similar tools work without proto files. Descriptors come from the generated
 * protobuf-es code, so they always match what the server speaks.
 */
export function addReflection(server: GrpcServer, files: readonly DescFile[]): void {
  const all = new Map<string, DescFile>();
  const visit = (f: DescFile) => {
    if (all.has(f.name)) return;
    all.set(f.name, f);
    f.dependencies.forEach(visit);
  };
  files.forEach(visit);
  const fileDescriptorProtos = [...all.values()].map((f) => Buffer.from(toBinary(FileDescriptorProtoSchema, f.proto)));
  new ReflectionService({ verdict: { fileDescriptorProtos } } as never).addToServer({ addService: (d, i) => server.add(d, i) });
}

// A plain node:http service that asks Verdict before every request (Express works the same:
// app.use(verdictMiddleware(client, toQuestion))). It fits the example bundle in policies/.
import { createServer, type IncomingMessage } from "node:http";
import { entity, ip, uid, VerdictClient, verdictMiddleware } from "../src/index.js";

/** Who calls (here a header a trusted front proxy sets), what they do, on what: GET /docs/{tenant}/{id}. */
export function toQuestion(req: IncomingMessage) {
  const user = req.headers["x-user"];
  if (typeof user !== "string" || user === "") return undefined;
  const [, , tenant = "", id = ""] = (req.url ?? "/").split("?")[0]!.split("/");
  return {
    principal: entity("App::User", user, { attrs: { tenant: uid("App::Tenant", tenant), department: "eng", suspended: false } }),
    action: uid("App::Action", req.method === "GET" ? "view" : "edit"),
    // A real service loads the document's owner and classification from its database.
    resource: entity("App::Document", id, { attrs: { tenant: uid("App::Tenant", tenant), owner: uid("App::User", "alice"), department: "marketing", classification: "public" } }),
    context: { mfa: false, sourceIp: ip(req.socket.remoteAddress?.replace(/^::ffff:/, "") ?? "0.0.0.0") },
  };
}

/** Starts the guarded service on `port` (0: any free port); resolves with the server. */
export function startGuardedService(client: VerdictClient, port: number) {
  const guard = verdictMiddleware(client, toQuestion);
  const server = createServer((req, res) =>
    guard(req, res, () => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("allowed\n");
    }),
  );
  return new Promise<typeof server>((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

if (process.argv[1]?.endsWith("node-http-middleware.js")) {
  void startGuardedService(new VerdictClient({ address: process.env["VERDICT_ADDR"] ?? "127.0.0.1:50051", deadlineMs: 200 }), 8080);
}

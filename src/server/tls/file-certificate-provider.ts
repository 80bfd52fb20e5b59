import { readFileSync } from "node:fs";
import type * as grpc from "@grpc/grpc-js";

type Provider = grpc.experimental.CertificateProvider;
type IdentityListener = grpc.experimental.IdentityCertificateUpdateListener;
type CaListener = grpc.experimental.CaCertificateUpdateListener;

/**
 * Certificates from PEM files for grpc-js. Unlike grpc-js's own file watcher, the files are read
 * synchronously at construction, so the listener never accepts a connection before it has a
 * certificate, and a missing file fails startup with its name; they are re-read every
 * `refreshMs` so a rotated certificate is picked up without a restart.
 */
export class FileCertificateProvider implements Provider {
  readonly #files: { cert?: string | undefined; key?: string | undefined; ca?: string | undefined };
  readonly #identityListeners = new Set<IdentityListener>();
  readonly #caListeners = new Set<CaListener>();
  #identity: grpc.experimental.IdentityCertificateUpdate | null = null;
  #ca: grpc.experimental.CaCertificateUpdate | null = null;
  readonly #timer: NodeJS.Timeout;

  constructor(files: { cert?: string | undefined; key?: string | undefined; ca?: string | undefined }, refreshMs: number) {
    this.#files = files;
    this.#read(true);
    this.#timer = setInterval(() => this.#read(false), refreshMs).unref();
  }

  addIdentityCertificateListener(listener: IdentityListener): void {
    this.#identityListeners.add(listener);
    // grpc-js registers its own watcher only after adding the listener: answer on the next tick.
    const identity = this.#identity;
    if (identity) queueMicrotask(() => listener(identity));
  }

  removeIdentityCertificateListener(listener: IdentityListener): void {
    this.#identityListeners.delete(listener);
  }

  addCaCertificateListener(listener: CaListener): void {
    this.#caListeners.add(listener);
    const ca = this.#ca;
    if (ca) queueMicrotask(() => listener(ca));
  }

  removeCaCertificateListener(listener: CaListener): void {
    this.#caListeners.delete(listener);
  }

  /** Stops re-reading the files. */
  close(): void {
    clearInterval(this.#timer);
  }

  #read(initial: boolean): void {
    try {
      const { cert, key, ca } = this.#files;
      if (cert !== undefined && key !== undefined) {
        const next = { certificate: readFileSync(cert), privateKey: readFileSync(key) };
        if (!this.#identity || !next.certificate.equals(this.#identity.certificate) || !next.privateKey.equals(this.#identity.privateKey)) {
          this.#identity = next;
          for (const l of this.#identityListeners) l(next);
        }
      }
      if (ca !== undefined) {
        const next = { caCertificate: readFileSync(ca) };
        if (!this.#ca || !next.caCertificate.equals(this.#ca.caCertificate)) {
          this.#ca = next;
          for (const l of this.#caListeners) l(next);
        }
      }
    } catch (err) {
      // At start a missing file is a configuration error; later, a rotation in progress.
      if (initial) throw new Error(`cannot read TLS files: ${(err as Error).message}`);
    }
  }
}

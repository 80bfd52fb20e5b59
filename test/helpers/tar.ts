import { gzipSync } from "node:zlib";

/** One raw tar entry; `type` is the ustar type flag ("0" file, "2" symlink, "1" hard link, "3" char device, "5" folder, "6" FIFO). */
export interface RawEntry {
  name: string;
  content?: string | Uint8Array;
  type?: string;
  linkname?: string;
}

/** Builds a .tar.gz byte for byte, so tests can make archives no well-behaved tool would. */
export function tarGz(entries: RawEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = typeof e.content === "string" ? Buffer.from(e.content) : Buffer.from(e.content ?? new Uint8Array());
    const h = Buffer.alloc(512);
    h.write(e.name, 0, 100);
    h.write("0000644\0", 100);
    h.write("0000000\0", 108);
    h.write("0000000\0", 116);
    h.write(`${body.length.toString(8).padStart(11, "0")}\0`, 124);
    h.write("00000000000\0", 136);
    h.write("        ", 148);
    h.write(e.type ?? "0", 156);
    h.write(e.linkname ?? "", 157, 100);
    h.write("ustar\0", 257);
    h.write("00", 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
    blocks.push(h, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

// gRPC wire framing and equal-length bodies: h2load sends every body with one content-length,
// so each message is padded to a common length through its request-id string field (a field
// neither PDP uses to decide, and Verdict leaves out of its cache key).

// 5-byte gRPC prefix (not compressed, uint32 BE length) followed by the message.
export function frame(msg) {
  const out = Buffer.alloc(5 + msg.length);
  out.writeUInt32BE(msg.length, 1);
  Buffer.from(msg.buffer, msg.byteOffset, msg.length).copy(out, 5);
  return out;
}

// The message inside one gRPC frame (the response body of a unary call).
export function unframe(buf) {
  if (buf.length < 5) throw new Error(`short gRPC frame (${buf.length} bytes)`);
  if (buf[0] !== 0) throw new Error("compressed gRPC frame");
  return buf.subarray(5, 5 + buf.readUInt32BE(1));
}

// Writes one length-delimited string field (tag, varint length, characters) at `o`.
function writeField(out, o, tag, str) {
  const len = str.length;
  out[o++] = tag;
  if (len < 128) out[o++] = len;
  else { out[o++] = (len & 0x7f) | 0x80; out[o++] = len >> 7; }
  out.write(str, o, "ascii");
  return o + len;
}

// Appends a string field (tag byte `tag`) to `msg` so the frame is exactly `frameLen` bytes;
// the string starts with `id` and is filled with dots. 130 extra bytes is the one size a single
// field cannot take, so it becomes two occurrences of the field (protobuf keeps the last).
// Returns null when the id does not fit.
export function padToFrame(msg, tag, id, frameLen) {
  const need = frameLen - 5 - msg.length;
  const out = Buffer.alloc(frameLen);
  out.writeUInt32BE(frameLen - 5, 1);
  Buffer.from(msg.buffer, msg.byteOffset, msg.length).copy(out, 5);
  let o = 5 + msg.length;
  let rest = need;
  if (need === 130) { o = writeField(out, o, tag, ".".repeat(60)); rest = 68; }
  const len = rest <= 129 ? rest - 2 : rest - 3;
  if (len < id.length) return null;
  o = writeField(out, o, tag, id.padEnd(len, "."));
  return o === frameLen ? out : null;
}

// Smallest frame length that fits every message of up to `maxMsgLen` bytes with an id of
// `idChars` characters.
export function commonFrameLength(maxMsgLen, idChars) {
  return 5 + maxMsgLen + 2 + idChars;
}

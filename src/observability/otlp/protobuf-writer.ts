import type { AttributeValue, Attributes } from "./span.js";

/**
 * The protobuf wire format as the OTLP encoder writes it: varints, tags, length-delimited fields
 * and the hex ids of spans, written straight into one growing buffer.
 */

/** Value of each hex digit by char code ('0'–'9', 'a'–'f'). */
const HEX = new Uint8Array(128);
for (let i = 0; i < 16; i++) HEX["0123456789abcdef".charCodeAt(i)] = i;

const KEYS = new Map<string, Buffer>();

export function varintBytes(value: number): Buffer {
  const out: number[] = [];
  while (value > 0x7f) {
    out.push((value & 0x7f) | 0x80);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return Buffer.from(out);
}

/**
 * A protobuf writer into one growing buffer. Nested messages are written in place after a
 * one-byte length; the rare body of 128 bytes or more is moved right to make room for a longer
 * length, so nothing is encoded twice.
 */
export class Writer {
  buf: Buffer;
  pos = 0;

  constructor(size = 1024) {
    this.buf = Buffer.allocUnsafe(size);
  }

  ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + bytes) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  varint(value: number): void {
    this.ensure(10);
    while (value > 0x7f) {
      this.buf[this.pos++] = (value & 0x7f) | 0x80;
      value = Math.floor(value / 128);
    }
    this.buf[this.pos++] = value;
  }

  tag(field: number, wireType: 0 | 1 | 2 | 5): void {
    this.varint((field << 3) | wireType);
  }

  /** Starts a length-delimited field; pass the result to `close`. */
  open(field: number): number {
    this.tag(field, 2);
    this.ensure(1);
    return this.pos++;
  }

  close(lengthAt: number): void {
    const length = this.pos - lengthAt - 1;
    if (length < 0x80) {
      this.buf[lengthAt] = length;
      return;
    }
    let extra = 0;
    for (let v = length >>> 7; v > 0; v >>>= 7) extra++;
    this.ensure(extra);
    this.buf.copyWithin(lengthAt + 1 + extra, lengthAt + 1, this.pos);
    this.pos += extra;
    let at = lengthAt;
    let v = length;
    while (v > 0x7f) {
      this.buf[at++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[at] = v;
  }

  string(field: number, value: string): void {
    const at = this.open(field);
    this.ensure(value.length * 3);
    // Short ASCII strings (most names and ids) byte by byte: cheaper than a call into Buffer#write.
    const start = this.pos;
    if (value.length <= 64) {
      const buf = this.buf;
      let i = 0;
      for (; i < value.length; i++) {
        const c = value.charCodeAt(i);
        if (c >= 0x80) break;
        buf[start + i] = c;
      }
      if (i === value.length) {
        this.pos = start + i;
        this.close(at);
        return;
      }
    }
    this.pos = start + this.buf.write(value, start, "utf8");
    this.close(at);
  }

  /** An id (lowercase hex, as every id here is made or checked) as its bytes. */
  hexBytes(field: number, hex: string): void {
    const length = hex.length >>> 1;
    this.tag(field, 2);
    this.varint(length);
    this.ensure(length);
    const buf = this.buf;
    for (let i = 0; i < length; i++) {
      buf[this.pos++] = (HEX[hex.charCodeAt(2 * i)]! << 4) | HEX[hex.charCodeAt(2 * i + 1)]!;
    }
  }

  /**
   * Epoch milliseconds as a fixed64 of nanoseconds, without BigInt: the product is assembled
   * from parts small enough to be exact in a double.
   */
  nanos(field: number, ms: number): void {
    this.tag(field, 1);
    this.ensure(8);
    const whole = Math.floor(ms);
    const fraction = Math.round((ms - whole) * 1e6);
    const seconds = Math.floor(whole / 1000);
    const low = (seconds % 65536) * 1e9 + (whole - seconds * 1000) * 1e6 + fraction;
    const high = Math.floor(seconds / 65536) * 1e9; // × 2^16
    const t = (high % 65536) * 65536 + low;
    this.pos = this.buf.writeUInt32LE(t % 2 ** 32, this.pos);
    this.pos = this.buf.writeUInt32LE(Math.floor(high / 65536) + Math.floor(t / 2 ** 32), this.pos);
  }

  fixed32(field: number, value: number): void {
    this.tag(field, 5);
    this.ensure(4);
    this.pos = this.buf.writeUInt32LE(value >>> 0, this.pos);
  }

  double(field: number, value: number): void {
    this.tag(field, 1);
    this.ensure(8);
    this.pos = this.buf.writeDoubleLE(value, this.pos);
  }

  /** An int64 varint; negative numbers take ten bytes (two's complement). */
  int64(field: number, value: number): void {
    this.tag(field, 0);
    if (value >= 0) {
      this.varint(value);
      return;
    }
    let v = BigInt.asUintN(64, BigInt(value));
    this.ensure(10);
    while (v > 0x7fn) {
      this.buf[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.buf[this.pos++] = Number(v);
  }

  attributes(field: number, attributes: Attributes): void {
    for (const key in attributes) this.keyValue(field, key, attributes[key]!);
  }

  keyValue(field: number, key: string, value: AttributeValue): void {
    const kv = this.open(field);
    // Attribute keys come from a small set: their encoding is made once.
    let encodedKey = KEYS.get(key);
    if (encodedKey === undefined) {
      const bytes = Buffer.from(key, "utf8");
      encodedKey = Buffer.concat([Buffer.from([(1 << 3) | 2]), varintBytes(bytes.length), bytes]);
      if (KEYS.size < 1024) KEYS.set(key, encodedKey);
    }
    this.ensure(encodedKey.length);
    this.buf.set(encodedKey, this.pos);
    this.pos += encodedKey.length;
    const any = this.open(2);
    if (typeof value === "string") this.string(1, value);
    else if (typeof value === "boolean") {
      this.tag(2, 0);
      this.varint(value ? 1 : 0);
    } else if (Number.isSafeInteger(value)) this.int64(3, value);
    else this.double(4, value);
    this.close(any);
    this.close(kv);
  }
}

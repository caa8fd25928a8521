/**
 * GPT-2 byte-to-unicode table: every byte maps to a printable code point, so byte-level BPE
 * can work on ordinary JS strings (printable ASCII/Latin-1 map to themselves, the rest move up
 * to U+0100..). All mapped characters are in the BMP, so one byte is one UTF-16 unit.
 */
function buildTables(): { byteToChar: string[]; charToByte: Map<string, number> } {
  const bs: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) bs.push(b);
  for (let b = 0xa1; b <= 0xac; b++) bs.push(b);
  for (let b = 0xae; b <= 0xff; b++) bs.push(b);
  const cs = bs.slice();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const byteToChar = new Array<string>(256);
  const charToByte = new Map<string, number>();
  bs.forEach((b, i) => {
    const ch = String.fromCharCode(cs[i]);
    byteToChar[b] = ch;
    charToByte.set(ch, b);
  });
  return { byteToChar, charToByte };
}

const TABLES = buildTables();

/** The 256 byte-level characters, indexed by byte value. */
export const BYTE_TO_UNICODE: readonly string[] = TABLES.byteToChar;

const utf8Encoder = new TextEncoder();

/** UTF-8 bytes of `text` rendered as a byte-level string (one char per byte). */
export function textToByteLevel(text: string): string {
  const bytes = utf8Encoder.encode(text);
  let out = '';
  for (const b of bytes) out += TABLES.byteToChar[b];
  return out;
}

/** Bytes of a byte-level token string; undefined if it holds a char outside the table. */
export function byteLevelToBytes(token: string): Uint8Array | undefined {
  const out = new Uint8Array(token.length);
  for (let i = 0; i < token.length; i++) {
    const b = TABLES.charToByte.get(token[i]);
    if (b === undefined) return undefined;
    out[i] = b;
  }
  return out;
}

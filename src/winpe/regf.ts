/**
 * A minimal writer of Windows registry hive files ("regf"), enough for a BCD store
 * (bcd.ts). Pure: a tree of keys and values in, the file's bytes out.
 *
 * Format, as described publicly (libyal/libregf "Windows NT Registry File (REGF)
 * format specification"; hivex's lib/hivex-internal.h notes; Microsoft's
 * CM_KEY_NODE/CM_KEY_VALUE field names):
 *
 *   base block  4096 bytes: "regf", sequence numbers (equal = clean), timestamp,
 *               version 1.3, type 0 (primary), format 1, root cell offset, size of
 *               the hive-bins data, clustering 1, file name, and at 0x1fc the XOR
 *               of the first 127 little-endian dwords.
 *   hbin        4096-byte multiples, a 32-byte header ("hbin", own offset, size),
 *               then cells. Cell offsets are relative to the first hbin (file 0x1000).
 *   cell        int32 size (negative: allocated), 8-byte aligned, never spans hbins;
 *               leftover space in an hbin is one free cell (positive size).
 *   nk          a key: flags (0x20 = ASCII name; the root adds 0x04|0x08), parent,
 *               subkey count + list, value count + list, security cell, name.
 *   lh          the subkey list: (nk offset, hash) pairs sorted by upper-cased name;
 *               hash = Σ h*37 + upper(char).
 *   vk          a value: name, data size (bit 31 set = data inline in the offset
 *               field, for ≤ 4 bytes), data offset, type, flags (1 = ASCII name).
 *   value list  a bare array of vk offsets.
 *   sk          one security descriptor shared by every key (reference count).
 *
 * Not written, because a BCD never needs them: big-data `db` cells (values over
 * 16,344 bytes are refused), `ri` index lists (over 1,012 subkeys refused), class
 * names, volatile keys, transaction logs.
 */

export const REG_SZ = 1;
export const REG_BINARY = 3;
export const REG_DWORD = 4;
export const REG_MULTI_SZ = 7;
export const REG_QWORD = 11;

export interface RegValue {
  /** "" is the key's default value. */
  name: string;
  type: number;
  data: Buffer;
}

export interface RegKey {
  name: string;
  values?: RegValue[];
  subkeys?: RegKey[];
}

export interface HiveOptions {
  /** Written into the base block, hbin headers and keys; default: the Unix epoch (reproducible files). */
  timestamp?: Date;
  /** The base block's file name field (UTF-16, at most 31 characters kept). */
  fileName?: string;
}

/** Largest value data kept in one cell (CM_KEY_VALUE_BIG threshold); larger needs `db` cells. */
export const MAX_VALUE_DATA = 16344;
/** Most subkeys in one `lh` list before Windows splits it with an `ri` index. */
export const MAX_SUBKEYS = 1012;

const BASE_BLOCK = 4096;
const HBIN_HEADER = 32;
const HBIN_SIZE = 4096;
const NO_CELL = 0xffffffff;

export const regSz = (s: string): RegValue['data'] => Buffer.from(`${s}\0`, 'utf16le');
export const regMultiSz = (list: readonly string[]): Buffer => Buffer.from(`${list.map((s) => `${s}\0`).join('')}\0`, 'utf16le');
export const regDword = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};
export const regQword = (n: bigint | number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};

/** FILETIME: 100-ns intervals since 1601-01-01 UTC. */
export function fileTime(d: Date): bigint {
  return (BigInt(d.getTime()) + 11644473600000n) * 10000n;
}

/** Names stored as one byte per character ("compressed") when they are printable ASCII. */
const asciiName = (s: string): boolean => /^[\x20-\x7e]*$/.test(s);
const nameBytes = (s: string): Buffer => (asciiName(s) ? Buffer.from(s, 'latin1') : Buffer.from(s, 'utf16le'));

/** The `lh` hash: h = h*37 + c over the upper-cased name's UTF-16 code units, mod 2^32. */
export function lhHash(name: string): number {
  let h = 0;
  for (const c of name.toUpperCase()) h = (Math.imul(h, 37) + c.charCodeAt(0)) >>> 0;
  return h;
}

/** Windows orders subkeys by upper-cased name (UTF-16 code unit order). */
const compareNames = (a: string, b: string): number => {
  const x = a.toUpperCase();
  const y = b.toUpperCase();
  return x < y ? -1 : x > y ? 1 : 0;
};

// --- security descriptor -------------------------------------------------------

function sid(authority: number, ...subs: number[]): Buffer {
  const b = Buffer.alloc(8 + 4 * subs.length);
  b[0] = 1;
  b[1] = subs.length;
  b.writeUIntBE(authority, 2, 6);
  subs.forEach((s, i) => b.writeUInt32LE(s, 8 + 4 * i));
  return b;
}

/**
 * Self-relative SECURITY_DESCRIPTOR: owner BUILTIN\Administrators, group SYSTEM,
 * DACL granting KEY_ALL_ACCESS to Administrators and SYSTEM and KEY_READ to
 * Everyone, inherited by subkeys (CONTAINER_INHERIT_ACE). What bcdedit's stores
 * carry is similar; bootmgr does not evaluate it.
 */
function securityDescriptor(): Buffer {
  const admins = sid(5, 32, 544);
  const system = sid(5, 18);
  const everyone = sid(1, 0);
  const ace = (mask: number, who: Buffer): Buffer => {
    const a = Buffer.alloc(8 + who.length);
    a[0] = 0; // ACCESS_ALLOWED_ACE_TYPE
    a[1] = 0x02; // CONTAINER_INHERIT_ACE
    a.writeUInt16LE(a.length, 2);
    a.writeUInt32LE(mask, 4);
    who.copy(a, 8);
    return a;
  };
  const aces = [ace(0xf003f, admins), ace(0xf003f, system), ace(0x20019, everyone)];
  const aclBody = Buffer.concat(aces);
  const acl = Buffer.alloc(8);
  acl[0] = 2; // ACL_REVISION
  acl.writeUInt16LE(8 + aclBody.length, 2);
  acl.writeUInt16LE(aces.length, 4);
  const head = Buffer.alloc(20);
  head[0] = 1; // revision
  head.writeUInt16LE(0x8004, 2); // SE_SELF_RELATIVE | SE_DACL_PRESENT
  const ownerAt = 20;
  const groupAt = ownerAt + admins.length;
  const daclAt = groupAt + system.length;
  head.writeUInt32LE(ownerAt, 4);
  head.writeUInt32LE(groupAt, 8);
  head.writeUInt32LE(0, 12); // no SACL
  head.writeUInt32LE(daclAt, 16);
  return Buffer.concat([head, admins, system, acl, aclBody]);
}

// --- cells ---------------------------------------------------------------------

interface Cell {
  /** Payload bytes (without the 4-byte size field). */
  size: number;
  /** Offset relative to the first hbin, set by the layout. */
  offset: number;
  write(buf: Buffer, at: number): void;
}

const align8 = (n: number): number => (n + 7) & ~7;

function validate(key: RegKey, path: string): void {
  if (key.name.length === 0 && path !== '') throw new Error(`regf: empty key name under "${path}"`);
  if (key.name.includes('\\')) throw new Error(`regf: key name "${key.name}" contains a backslash`);
  if (key.name.length > 255) throw new Error(`regf: key name "${key.name.slice(0, 40)}…" is longer than 255 characters`);
  const here = `${path}\\${key.name}`;
  const subkeys = key.subkeys ?? [];
  if (subkeys.length > MAX_SUBKEYS) throw new Error(`regf: "${here}" has ${subkeys.length} subkeys; at most ${MAX_SUBKEYS} are supported (no ri lists)`);
  const seenKeys = new Set<string>();
  for (const k of subkeys) {
    const u = k.name.toUpperCase();
    if (seenKeys.has(u)) throw new Error(`regf: duplicate subkey "${k.name}" under "${here}"`);
    seenKeys.add(u);
  }
  const seenValues = new Set<string>();
  for (const v of key.values ?? []) {
    const u = v.name.toUpperCase();
    if (seenValues.has(u)) throw new Error(`regf: duplicate value "${v.name}" in "${here}"`);
    seenValues.add(u);
    if (v.data.length > MAX_VALUE_DATA) throw new Error(`regf: value "${v.name}" in "${here}" has ${v.data.length} bytes; at most ${MAX_VALUE_DATA} are supported (no big-data cells)`);
  }
  for (const k of subkeys) validate(k, here);
}

/** The hive file's bytes for the tree under `root` (the root key's own name is kept). */
export function writeHive(root: RegKey, opts: HiveOptions = {}): Buffer {
  validate(root, '');
  const stamp = fileTime(opts.timestamp ?? new Date(0));
  const cells: Cell[] = [];
  const add = (cell: Omit<Cell, 'offset'>): Cell => {
    const c = { ...cell, offset: -1 };
    cells.push(c);
    return c;
  };

  // One security cell shared by every key; its links point at itself (a one-element ring).
  const sd = securityDescriptor();
  let keyCount = 0;
  const sk = add({
    size: 20 + sd.length,
    write(buf, at) {
      buf.write('sk', at, 'latin1');
      buf.writeUInt32LE(sk.offset, at + 4); // flink
      buf.writeUInt32LE(sk.offset, at + 8); // blink
      buf.writeUInt32LE(keyCount, at + 12); // reference count
      buf.writeUInt32LE(sd.length, at + 16);
      sd.copy(buf, at + 20);
    },
  });

  const addKey = (key: RegKey, parent: Cell | null): Cell => {
    keyCount++;
    const name = nameBytes(key.name);
    const values = key.values ?? [];
    const subkeys = [...(key.subkeys ?? [])].sort((a, b) => compareNames(a.name, b.name));
    const nk = add({
      size: 0x4c + name.length,
      write(buf, at) {
        buf.write('nk', at, 'latin1');
        buf.writeUInt16LE((asciiName(key.name) ? 0x20 : 0) | (parent === null ? 0x0c : 0), at + 2);
        buf.writeBigUInt64LE(stamp, at + 4);
        buf.writeUInt32LE(0, at + 0x0c); // access bits
        buf.writeUInt32LE(parent === null ? NO_CELL : parent.offset, at + 0x10);
        buf.writeUInt32LE(subkeys.length, at + 0x14);
        buf.writeUInt32LE(0, at + 0x18); // volatile subkeys
        buf.writeUInt32LE(subkeyList === null ? NO_CELL : subkeyList.offset, at + 0x1c);
        buf.writeUInt32LE(NO_CELL, at + 0x20); // volatile subkey list
        buf.writeUInt32LE(values.length, at + 0x24);
        buf.writeUInt32LE(valueList === null ? NO_CELL : valueList.offset, at + 0x28);
        buf.writeUInt32LE(sk.offset, at + 0x2c);
        buf.writeUInt32LE(NO_CELL, at + 0x30); // class name
        buf.writeUInt32LE(Math.max(0, ...subkeys.map((k) => k.name.length * 2)), at + 0x34);
        buf.writeUInt32LE(0, at + 0x38); // largest subkey class name
        buf.writeUInt32LE(Math.max(0, ...values.map((v) => v.name.length * 2)), at + 0x3c);
        buf.writeUInt32LE(Math.max(0, ...values.map((v) => v.data.length)), at + 0x40);
        buf.writeUInt32LE(0, at + 0x44); // work var
        buf.writeUInt16LE(name.length, at + 0x48);
        buf.writeUInt16LE(0, at + 0x4a); // class name length
        name.copy(buf, at + 0x4c);
      },
    });

    const vks = values.map((v) => {
      const vname = nameBytes(v.name);
      const inline = v.data.length <= 4;
      const data = inline ? null : add({ size: v.data.length, write: (buf, at) => void v.data.copy(buf, at) });
      const vk = add({
        size: 0x14 + vname.length,
        write(buf, at) {
          buf.write('vk', at, 'latin1');
          buf.writeUInt16LE(v.name.length === 0 ? 0 : vname.length, at + 2);
          buf.writeUInt32LE((v.data.length | (inline ? 0x80000000 : 0)) >>> 0, at + 4);
          if (inline) {
            buf.fill(0, at + 8, at + 12);
            v.data.copy(buf, at + 8);
          } else {
            buf.writeUInt32LE(data!.offset, at + 8);
          }
          buf.writeUInt32LE(v.type >>> 0, at + 0x0c);
          buf.writeUInt16LE(asciiName(v.name) && v.name.length > 0 ? 1 : 0, at + 0x10);
          buf.writeUInt16LE(0, at + 0x12);
          vname.copy(buf, at + 0x14);
        },
      });
      return vk;
    });
    const valueList = vks.length === 0 ? null : add({
      size: 4 * vks.length,
      write: (buf, at) => vks.forEach((vk, i) => buf.writeUInt32LE(vk.offset, at + 4 * i)),
    });

    const children: Cell[] = [];
    const subkeyList = subkeys.length === 0 ? null : add({
      size: 4 + 8 * subkeys.length,
      write(buf, at) {
        buf.write('lh', at, 'latin1');
        buf.writeUInt16LE(subkeys.length, at + 2);
        subkeys.forEach((k, i) => {
          buf.writeUInt32LE(children[i]!.offset, at + 4 + 8 * i);
          buf.writeUInt32LE(lhHash(k.name), at + 8 + 8 * i);
        });
      },
    });
    for (const k of subkeys) children.push(addKey(k, nk));
    return nk;
  };
  const rootCell = addKey(root, null);

  // Layout: cells in order, 4 KiB hbins, a free cell closing each hbin.
  const bins: { start: number; size: number }[] = [];
  const freeCells: { offset: number; size: number }[] = [];
  let binEnd = 0;
  let pos = 0;
  for (const c of cells) {
    const total = align8(c.size + 4);
    if (bins.length === 0 || pos + total > binEnd) {
      if (pos < binEnd) freeCells.push({ offset: pos, size: binEnd - pos });
      const size = Math.max(HBIN_SIZE, Math.ceil((HBIN_HEADER + total) / HBIN_SIZE) * HBIN_SIZE);
      bins.push({ start: binEnd, size });
      pos = binEnd + HBIN_HEADER;
      binEnd += size;
    }
    c.offset = pos;
    pos += total;
  }
  if (pos < binEnd) freeCells.push({ offset: pos, size: binEnd - pos });
  const dataSize = binEnd;

  const buf = Buffer.alloc(BASE_BLOCK + dataSize);
  const hb = (off: number): number => BASE_BLOCK + off;
  for (const b of bins) {
    const at = hb(b.start);
    buf.write('hbin', at, 'latin1');
    buf.writeUInt32LE(b.start, at + 4);
    buf.writeUInt32LE(b.size, at + 8);
    buf.writeBigUInt64LE(stamp, at + 0x14);
  }
  for (const c of cells) {
    const total = align8(c.size + 4);
    buf.writeInt32LE(-total, hb(c.offset));
    c.write(buf, hb(c.offset) + 4);
  }
  for (const f of freeCells) buf.writeInt32LE(f.size, hb(f.offset));

  // Base block.
  buf.write('regf', 0, 'latin1');
  buf.writeUInt32LE(1, 0x04); // primary sequence number
  buf.writeUInt32LE(1, 0x08); // secondary: equal means the hive was written cleanly
  buf.writeBigUInt64LE(stamp, 0x0c);
  buf.writeUInt32LE(1, 0x14); // major version
  buf.writeUInt32LE(3, 0x18); // minor version
  buf.writeUInt32LE(0, 0x1c); // primary file
  buf.writeUInt32LE(1, 0x20); // direct memory load
  buf.writeUInt32LE(rootCell.offset, 0x24);
  buf.writeUInt32LE(dataSize, 0x28);
  buf.writeUInt32LE(1, 0x2c); // clustering factor
  Buffer.from((opts.fileName ?? '').slice(0, 31), 'utf16le').copy(buf, 0x30);
  buf.writeUInt32LE(baseBlockChecksum(buf), 0x1fc);
  return buf;
}

/** XOR of the first 127 dwords; 0 and 0xffffffff are reserved and nudged. */
export function baseBlockChecksum(buf: Buffer): number {
  let x = 0;
  for (let i = 0; i < 0x1fc; i += 4) x = (x ^ buf.readUInt32LE(i)) >>> 0;
  if (x === 0xffffffff) return 0xfffffffe;
  if (x === 0) return 1;
  return x;
}

/**
 * The arithmetic behind CRC-64/ISO (Go's `crc64.ISO`), shared by the pure-JS reference
 * and the WebAssembly kernel: lookup tables, and the GF(2) polynomial algebra that turns
 * "feed L zero bytes" into a table lookup.
 *
 * Representation: the register is "reflected" (LSB-first), so bit 63 holds the
 * coefficient of x^0 and bit 0 the coefficient of x^63. Shifting the register right by
 * one is multiplying by x; the bit that falls off is reduced by the polynomial.
 */

/** x^64 + x^4 + x^3 + x + 1 (ISO 3309) in reflected form, the x^64 term implied. */
export const ISO_POLY = 0xd800_0000_0000_0000n;

/** All 64 bits set: the initial register and the final xor-out of CRC-64/ISO. */
export const MASK64 = 0xffff_ffff_ffff_ffffn;

/** Number of entries in one lookup table (one per byte value). */
const TABLE_ENTRIES = 256;

/** Multiplies a reflected register by x modulo the polynomial (one zero bit fed in). */
export function mulX(register: bigint): bigint {
  return (register & 1n) === 0n ? register >> 1n : (register >> 1n) ^ ISO_POLY;
}

/**
 * Slicing-by-N tables, concatenated: table 0 is the classic bytewise table
 * (`T0[b]` = register of byte b after 8 zero bits); table k is table k-1 advanced by one
 * more zero byte, so one lookup in table k accounts for a byte that still has k bytes
 * after it in the current word.
 */
export function makeSlicingTables(slices: number): BigUint64Array {
  const tables = new BigUint64Array(slices * TABLE_ENTRIES);
  for (let b = 0; b < TABLE_ENTRIES; b++) {
    let r = BigInt(b);
    for (let bit = 0; bit < 8; bit++) r = mulX(r);
    tables[b] = r;
  }
  for (let k = 1; k < slices; k++) {
    for (let b = 0; b < TABLE_ENTRIES; b++) {
      const prev = tables[(k - 1) * TABLE_ENTRIES + b]!;
      tables[k * TABLE_ENTRIES + b] = (prev >> 8n) ^ tables[Number(prev & 0xffn)]!;
    }
  }
  return tables;
}

/** Product of two reflected polynomials modulo the CRC polynomial. */
export function mulMod(a: bigint, b: bigint): bigint {
  let product = 0n;
  // Walk a's coefficients from x^0 (bit 63) upward, with b multiplied by x at each step.
  for (let m = 1n << 63n; a !== 0n; m >>= 1n) {
    if ((a & m) !== 0n) {
      product ^= b;
      a ^= m;
    }
    b = mulX(b);
  }
  return product;
}

/** Cache of x^(2^k) mod P, so x^(8L) costs one multiplication per set bit of L. */
const xPow2k: bigint[] = [1n << 62n]; // x^1: the x^1 coefficient lives in bit 62

function xToPowerOfTwo(k: number): bigint {
  while (xPow2k.length <= k) {
    const last = xPow2k[xPow2k.length - 1]!;
    xPow2k.push(mulMod(last, last));
  }
  return xPow2k[k]!;
}

/**
 * x^(8·length) mod P: multiplying a raw register by this polynomial is the same as
 * feeding it `length` zero bytes.
 */
export function zeroBytesOperator(length: number): bigint {
  let result = 1n << 63n; // x^0
  // Plain division rather than bit operators so lengths above 2^31 stay exact.
  for (let n = length, k = 3; n > 0; n = Math.floor(n / 2), k++) {
    if (n % 2 === 1) result = mulMod(result, xToPowerOfTwo(k));
  }
  return result;
}

/**
 * The linear map "feed `length` zero bytes" as 8 tables of 256 entries: table k maps
 * byte k (little-endian) of the register to its contribution, and the shifted register
 * is the XOR of the 8 lookups.
 */
export function makeShiftTable(length: number): BigUint64Array {
  const basis = new Array<bigint>(64);
  // Bit j holds x^(63-j); its image is x^(63-j) · x^(8L), built from bit 63 down by
  // repeated multiplication by x instead of 64 separate modular products.
  basis[63] = zeroBytesOperator(length);
  for (let j = 62; j >= 0; j--) basis[j] = mulX(basis[j + 1]!);

  const table = new BigUint64Array(8 * TABLE_ENTRIES);
  for (let k = 0; k < 8; k++) {
    const base = k * TABLE_ENTRIES;
    for (let v = 1; v < TABLE_ENTRIES; v++) {
      // Linearity: the image of v is the image of its lowest set bit XOR the image of
      // the rest, which is an entry already filled in.
      const low = v & -v;
      table[base + v] = table[base + (v ^ low)]! ^ basis[8 * k + 31 - Math.clz32(low)]!;
    }
  }
  return table;
}

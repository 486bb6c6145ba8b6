/** CRC-64/ISO and the LTX checksums built on it. */
export { CHECKSUM_FLAG, Crc64, crc64, crc64Raw, crc64Shift, pageChecksum, pageChecksumFromRaw } from './crc64.ts';

/** Largest compressed size LZ4 can produce for `size` input bytes. */
export function compressBound(size: number): number {
  return size + Math.floor(size / 255) + 16;
}

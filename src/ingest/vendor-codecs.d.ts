// Types of the pure-JS codecs used: snappyjs (the ingest's snappy blocks) and lz4js (the tests'
// LZ4 encoder); neither package ships its own.
declare module 'snappyjs' {
  const snappy: {
    /** Decodes a snappy block; throws when its announced length exceeds `maxLength`. */
    uncompress<T extends Uint8Array>(compressed: T, maxLength?: number): T;
    compress<T extends Uint8Array>(uncompressed: T): T;
  };
  export default snappy;
}

declare module 'lz4js' {
  const lz4: {
    /** An upper bound of a frame's decoded size, from its header and block sizes. */
    decompressBound(src: Uint8Array): number;
    /** Decodes a frame into `dst`; returns the decoded size (bytes past `dst`'s end are lost). */
    decompressFrame(src: Uint8Array, dst: Uint8Array): number;
    compress(src: Uint8Array): Uint8Array;
  };
  export default lz4;
}

// Types of the pure-JS codecs the tests encode with: snappyjs and lz4js (the ingest decodes with
// its own, stricter decoders: src/ingest/snappy-block.ts, lz4-frame.ts); neither package ships types.
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

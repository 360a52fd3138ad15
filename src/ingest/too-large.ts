/** A request body past the ingest's size limit, as sent or once decoded: answered 413. */
export class TooLarge extends Error {}

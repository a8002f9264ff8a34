import { KeelError } from '../core/errors.js';

/** Bytes that are not a valid file of the expected format (bad IDX magic, truncated data). */
export class DataFormatError extends KeelError {}

/** A dataset's files are not where the loader looked; the message says how to install them. */
export class DatasetNotFoundError extends KeelError {}
